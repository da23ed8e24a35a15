window.__ccsimErrors=[];
window.addEventListener('error',function(e){__ccsimErrors.push(String(e.message||e));});
window.addEventListener('unhandledrejection',function(e){
__ccsimErrors.push('unhandled rejection: '+String(e.reason));});
