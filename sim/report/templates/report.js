/* Draw every chart from its JSON spec, then fill #ccsim-render-status for the browser
   test: charts, rendered, titles, charts missing a target line, overlapping labels,
   repeated tick labels, JavaScript errors. Also fit the charts to the paper when
   printing. */
(function(){
var CONFIG={displaylogo:false,responsive:true,displayModeBar:'hover',
 modeBarButtonsToRemove:['select2d','lasso2d','autoScale2d']};
function figs(){return document.querySelectorAll('figure.chart');}
function draw(){
 if(!figs().length)return;
 if(typeof Plotly==='undefined'){__ccsimErrors.push('plotly.js did not load');return;}
 figs().forEach(function(f){
  try{var spec=JSON.parse(f.querySelector('script.fig').textContent);
   Plotly.newPlot(f.querySelector('.plot'),spec.data,spec.layout,CONFIG);}
  catch(e){__ccsimErrors.push('chart '+f.getAttribute('data-chart')+': '+e);}
 });
}
function txt(f){var t=f.querySelector('.gtitle');return t?t.textContent:'';}
function hit(a,b){return a.width>0&&b.width>0&&a.left<b.right-1&&b.left<a.right-1&&
 a.top<b.bottom-1&&b.top<a.bottom-1;}
function overlaps(f){
 var out=[],els=[].slice.call(f.querySelectorAll('g.annotation'));
 var boxes=els.map(function(e){return e.getBoundingClientRect();});
 for(var i=0;i<els.length;i++)for(var j=i+1;j<els.length;j++)
  if(hit(boxes[i],boxes[j]))out.push(els[i].textContent+' / '+els[j].textContent);
 return out;}
function repeated(f){
 var out=[];
 f.querySelectorAll('g.xaxislayer-above, g.yaxislayer-above').forEach(function(layer){
  var seen={};
  layer.querySelectorAll('text').forEach(function(t){
   var s=t.textContent;if(!s)return;
   if(seen[s])out.push(s);seen[s]=1;});});
 return out;}
function check(n){
 var done=0,titles=[],missing=[],over=[],rep=[],xticks={};
 figs().forEach(function(f){
  if(f.querySelector('.js-plotly-plot .main-svg'))done++;
  titles.push(txt(f));
  var want=+(f.getAttribute('data-targets')||0);
  var labels=[].filter.call(f.querySelectorAll('.annotation-text'),function(a){
   return a.textContent.indexOf('target')===0;}).length;
  var dashed=[].filter.call(f.querySelectorAll('.shapelayer path'),function(p){
   var s=p.style.strokeDasharray;return s&&s!=='none';}).length;
  if(labels<want||dashed<want)missing.push(txt(f)||f.getAttribute('data-chart'));
  overlaps(f).forEach(function(o){over.push(txt(f)+': '+o);});
  repeated(f).forEach(function(r){rep.push(txt(f)+': '+r);});
  xticks[f.getAttribute('data-chart')]=[].map.call(
   f.querySelectorAll('g.xaxislayer-above text'),function(t){return t.textContent;});
 });
 if(done<figs().length&&n<100){setTimeout(function(){check(n+1);},100);return;}
 var s=document.getElementById('ccsim-render-status');
 s.setAttribute('data-charts',figs().length);s.setAttribute('data-rendered',done);
 s.setAttribute('data-titles',JSON.stringify(titles));
 s.setAttribute('data-missing-targets',JSON.stringify(missing));
 s.setAttribute('data-overlaps',JSON.stringify(over));
 s.setAttribute('data-repeated-ticks',JSON.stringify(rep));
 s.setAttribute('data-xticks',JSON.stringify(xticks));
 s.setAttribute('data-errors',JSON.stringify(__ccsimErrors));
 s.setAttribute('data-state','done');
}
function plots(){return document.querySelectorAll('.js-plotly-plot');}
draw();
window.addEventListener('load',function(){
 if(typeof Plotly!=='undefined')plots().forEach(function(el){Plotly.Plots.resize(el);});
 setTimeout(function(){check(0);},50);});
window.addEventListener('beforeprint',function(){
 if(typeof Plotly!=='undefined')plots().forEach(function(el){
 var w=el.closest('.grid')?330:690;if(el.offsetWidth>w)Plotly.relayout(el,{width:w});});});
window.addEventListener('afterprint',function(){
 if(typeof Plotly!=='undefined')plots().forEach(function(el){
 Plotly.relayout(el,{width:null,autosize:true}).then(function(){Plotly.Plots.resize(el);});
});});
})();
