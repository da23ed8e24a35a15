"""Tests for sim.base.errors and sim.inputs.yamlio: safe YAML loading with line numbers, extends,
overrides and pydantic-error conversion."""

from __future__ import annotations

import pickle
import tempfile
import textwrap
from pathlib import Path
from typing import Annotated, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.base.errors import InputError
from sim.inputs.extends import deep_merge, resolve_extends
from sim.inputs.overrides import apply_overrides, forget_paths, parse_override, set_dotted
from sim.inputs.validation import input_error_from_validation, model_allowed_keys
from sim.inputs.yamlio import load_yaml, locate


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_yaml(path)
    return info.value


# ----------------------------------------------------------------------------- InputError


def test_input_error_str_has_all_parts():
    err = InputError("Input should be greater than 0 (got -5)", file="scenarios/x.yaml",
                     line=12, path="channels.phone.arrivals.rate_per_hour")
    assert str(err) == ("scenarios/x.yaml, line 12, at channels.phone.arrivals.rate_per_hour: "
                        "Input should be greater than 0 (got -5).")
    assert (err.file, err.line, err.path) == ("scenarios/x.yaml", 12, "channels.phone.arrivals."
                                                                      "rate_per_hour")
    assert err.message == "Input should be greater than 0 (got -5)"


def test_input_error_str_omits_unknown_parts():
    assert str(InputError("file not found", file="a.yaml")) == "a.yaml: file not found."
    assert str(InputError("bad", path="a.b")) == "at a.b: bad."
    assert str(InputError("bad", file="a.yaml", path="a.b")) == "a.yaml, at a.b: bad."
    assert str(InputError("just this")) == "just this."


def test_input_error_is_one_paragraph_and_not_double_punctuated():
    err = InputError("first line\n  second line.", file="f.yaml", line=3)
    assert str(err) == "f.yaml, line 3: first line second line."
    assert str(InputError("did you mean 'x'?")) == "did you mean 'x'?"


def test_input_error_survives_pickling():
    err = InputError("bad", file="f.yaml", line=3, path="a.b")
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, InputError)
    assert (back.message, back.file, back.line, back.path) == ("bad", "f.yaml", 3, "a.b")
    assert str(back) == str(err)


# ----------------------------------------------------------------------------- load_yaml

NESTED = """
# a comment line
name: demo
channels:
  phone:
    arrivals:
      rate_per_hour: 120
    share: 0.25
    enabled: true
tiers:
  - name: t1
    agents: 5
  -
    name: t2
  - plain
"""


def test_load_yaml_keeps_yaml_types(tmp_path):
    data, _ = load_yaml(write(tmp_path / "s.yaml", NESTED))
    phone = data["channels"]["phone"]
    assert phone["arrivals"]["rate_per_hour"] == 120
    assert type(phone["arrivals"]["rate_per_hour"]) is int
    assert type(phone["share"]) is float and phone["share"] == 0.25
    assert phone["enabled"] is True
    assert data["tiers"][2] == "plain"


def test_load_yaml_line_numbers_of_nested_keys_and_list_items(tmp_path):
    path = write(tmp_path / "s.yaml", NESTED)
    _, lm = load_yaml(path)
    f = str(path)
    assert lm[("name",)] == (f, 2)
    assert lm[("channels",)] == (f, 3)
    assert lm[("channels", "phone")] == (f, 4)
    assert lm[("channels", "phone", "arrivals", "rate_per_hour")] == (f, 6)
    assert lm[("channels", "phone", "enabled")] == (f, 8)
    assert lm[("tiers",)] == (f, 9)
    assert lm[("tiers", "0")] == (f, 10)
    assert lm[("tiers", "0", "name")] == (f, 10)
    assert lm[("tiers", "0", "agents")] == (f, 11)
    assert lm[("tiers", "1")] == (f, 13)  # the item starts on the line after the bare '-'
    assert lm[("tiers", "1", "name")] == (f, 13)
    assert lm[("tiers", "2")] == (f, 14)
    assert () not in lm


def test_load_yaml_accepts_path_as_str(tmp_path):
    path = write(tmp_path / "s.yaml", "a: 1\n")
    data, lm = load_yaml(str(path))
    assert data == {"a": 1}
    assert lm[("a",)] == (str(path), 1)


def test_load_yaml_anchor_merge_and_alias_lines(tmp_path):
    path = write(tmp_path / "s.yaml", """
        base: &b
          x: 1
          y: 2
        derived:
          <<: *b
          y: 3
        shared: *b
        """)
    data, lm = load_yaml(path)
    assert data["derived"] == {"x": 1, "y": 3}
    assert data["shared"] == {"x": 1, "y": 2}
    f = str(path)
    assert lm[("base", "x")] == (f, 2)  # the anchor's own place, not the later alias
    assert lm[("derived", "x")] == (f, 2)  # merged key: where it was written
    assert lm[("derived", "y")] == (f, 6)  # own key wins over the merged one
    assert lm[("shared",)] == (f, 7)
    assert locate(lm, ("shared", "x")) == (f, 7)


def test_load_yaml_syntax_error_names_line_and_problem(tmp_path):
    path = write(tmp_path / "s.yaml", "a: 1\nb: [1, 2\nc: 3\nd: 4\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.line == 3  # PyYAML notices the unclosed '[' at the ':' on line 3
    assert "invalid YAML" in err.message
    assert "expected ',' or ']'" in err.message
    assert "line 2" in err.message  # the flow sequence that started on line 2
    assert str(err).startswith(f"{path}, line 3: invalid YAML")


def test_load_yaml_bad_indentation_error_line(tmp_path):
    path = write(tmp_path / "s.yaml", "a:\n  b: 1\n c: 2\n")
    err = load_error(path)
    assert err.line == 3
    assert "invalid YAML" in err.message


def test_load_yaml_tab_indentation_hint(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("a: 1\nb:\n\tc: 2\n")
    err = load_error(path)
    assert err.line == 3
    assert "tabs" in err.message


@pytest.mark.parametrize("text", ["", "\n\n   \n", "# only a comment\n# another\n", "---\n"])
def test_load_yaml_empty_file(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    err = load_error(path)
    assert err.file == str(path)
    assert err.message.startswith("the file is empty; expected a mapping")


def test_load_yaml_missing_file(tmp_path):
    err = load_error(tmp_path / "nope.yaml")
    assert err.file == str(tmp_path / "nope.yaml")
    assert err.message == "file not found"
    assert err.line is None


def test_load_yaml_directory(tmp_path):
    err = load_error(tmp_path)
    assert "directory" in err.message


def test_load_yaml_duplicate_key_names_key_and_both_lines(tmp_path):
    path = write(tmp_path / "s.yaml", """
        a: 1
        b:
          c: 1
          d: 2
          c: 3
        """)
    err = load_error(path)
    assert err.line == 5
    assert "duplicate key 'c'" in err.message
    assert "line 3" in err.message and "line 5" in err.message


def test_load_yaml_duplicate_top_level_key(tmp_path):
    err = load_error(write(tmp_path / "s.yaml", "a: 1\nb: 2\na: 3\n"))
    assert "duplicate key 'a'" in err.message and err.line == 3


def test_load_yaml_same_key_in_different_mappings_is_fine(tmp_path):
    data, _ = load_yaml(write(tmp_path / "s.yaml", "a: {x: 1}\nb: {x: 2}\nc: [{x: 1}, {x: 2}]\n"))
    assert data["a"]["x"] == 1 and data["b"]["x"] == 2


@pytest.mark.parametrize("text, kind", [("- 1\n- 2\n", "a list"), ("hello\n", "text"),
                                        ("42\n", "a number")])
def test_load_yaml_top_level_must_be_mapping(tmp_path, text, kind):
    err = load_error(write(tmp_path / "s.yaml", text))
    assert "top level must be a mapping" in err.message
    assert kind in err.message
    assert err.line == 1


def test_load_yaml_top_level_key_read_as_bool(tmp_path):
    err = load_error(write(tmp_path / "s.yaml", "name: x\non: 1\n"))
    assert err.line == 2
    assert "true" in err.message and "quotes" in err.message


def test_load_yaml_top_level_number_key(tmp_path):
    err = load_error(write(tmp_path / "s.yaml", "name: x\n12: 1\n"))
    assert err.line == 2 and "12" in err.message


def test_load_yaml_nested_non_string_keys_are_kept(tmp_path):
    data, lm = load_yaml(write(tmp_path / "s.yaml", "hours:\n  0: 1.5\n  1: 2.5\n"))
    assert data["hours"] == {0: 1.5, 1: 2.5}
    assert lm[("hours", "1")][1] == 3


def test_load_yaml_never_constructs_python_objects(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path / "s.yaml",
                 f'a: !!python/object/apply:os.system ["touch {marker}"]\n')
    err = load_error(path)
    assert err.line == 1
    assert "python/object" in err.message
    assert not marker.exists()


def test_load_yaml_bad_explicit_tag_value(tmp_path):
    err = load_error(write(tmp_path / "s.yaml", "a: !!int abc\n"))
    assert err.file.endswith("s.yaml")


def test_load_yaml_not_utf8(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"a: 1\nb: \xff\xfe\n")
    err = load_error(path)
    assert "UTF-8" in err.message and err.line == 2


def test_load_yaml_multiple_documents(tmp_path):
    err = load_error(write(tmp_path / "s.yaml", "a: 1\n---\nb: 2\n"))
    assert "invalid YAML" in err.message and err.line == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{},'\"&*!<>|#\n\t 01.?%@`")), max_size=60))
def test_load_yaml_only_ever_raises_input_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            data, lm = load_yaml(path)
        except InputError as err:
            assert err.file == str(path)
            assert "\n" not in str(err)
        else:
            assert isinstance(data, dict)
            assert all(isinstance(k, str) for k in data)
            assert all(line >= 1 for _, line in lm.values())


# ----------------------------------------------------------------------------- extends

BASE = """
name: base
horizon_hours: 8
channels:
  phone:
    arrivals:
      rate_per_hour: 100
    mix: {billing: 0.5, tech: 0.5}
tiers:
  - a
  - b
  - c
"""


def test_extends_child_wins_and_lists_are_replaced(tmp_path):
    write(tmp_path / "base.yaml", BASE)
    child = write(tmp_path / "child.yaml", """
        extends: base.yaml
        name: child
        channels:
          phone:
            arrivals:
              rate_per_hour: 150
          chat:
            arrivals: {rate_per_hour: 10}
        tiers: [z]
        """)
    data, _ = resolve_extends(child)
    assert "extends" not in data
    assert data["name"] == "child"
    assert data["horizon_hours"] == 8  # inherited
    assert data["channels"]["phone"]["arrivals"]["rate_per_hour"] == 150
    assert data["channels"]["phone"]["mix"] == {"billing": 0.5, "tech": 0.5}  # merged
    assert data["channels"]["chat"] == {"arrivals": {"rate_per_hour": 10}}
    assert data["tiers"] == ["z"]  # replaced, not appended


def test_extends_mapping_replaced_by_scalar_and_vice_versa(tmp_path):
    write(tmp_path / "base.yaml", "a: {x: 1}\nb: 5\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\na: 7\nb: {y: 2}\n")
    data, lm = resolve_extends(child)
    assert data == {"a": 7, "b": {"y": 2}}
    assert ("a", "x") not in lm
    assert lm[("b", "y")] == (str(child), 3)


def test_extends_linemap_points_into_the_right_file(tmp_path):
    base = write(tmp_path / "base.yaml", BASE)
    child = write(tmp_path / "child.yaml", """
        extends: base.yaml
        channels:
          phone:
            arrivals:
              rate_per_hour: 150
        tiers: [z]
        """)
    _, lm = resolve_extends(child)
    assert lm[("channels", "phone", "arrivals", "rate_per_hour")] == (str(child), 5)
    assert lm[("channels", "phone")] == (str(child), 3)
    assert lm[("channels", "phone", "mix")] == (str(base), 7)
    assert lm[("horizon_hours",)] == (str(base), 2)
    assert lm[("tiers",)] == (str(child), 6)
    assert lm[("tiers", "0")] == (str(child), 6)
    assert ("tiers", "1") not in lm  # the parent's list items were replaced
    assert ("tiers", "2") not in lm
    assert ("extends",) not in lm


def test_extends_relative_to_the_extending_file(tmp_path):
    base = write(tmp_path / "common" / "base.yaml", "a: 1\nb: 2\n")
    child = write(tmp_path / "scen" / "deep" / "child.yaml",
                  "extends: ../../common/base.yaml\nb: 3\n")
    data, lm = resolve_extends(child)
    assert data == {"a": 1, "b": 3}
    assert Path(lm[("a",)][0]).resolve() == base.resolve()


def test_extends_chain_of_three(tmp_path):
    write(tmp_path / "a.yaml", "x: 1\ny: 1\nz: 1\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\ny: 2\nz: 2\n")
    c = write(tmp_path / "c.yaml", "extends: b.yaml\nz: 3\n")
    data, lm = resolve_extends(c)
    assert data == {"x": 1, "y": 2, "z": 3}
    assert Path(lm[("x",)][0]).name == "a.yaml"
    assert Path(lm[("y",)][0]).name == "b.yaml"
    assert Path(lm[("z",)][0]).name == "c.yaml"


def test_extends_cycle_is_detected(tmp_path):
    write(tmp_path / "a.yaml", "extends: b.yaml\nx: 1\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\ny: 1\n")
    with pytest.raises(InputError) as info:
        resolve_extends(tmp_path / "a.yaml")
    err = info.value
    assert "cycle" in err.message
    assert "a.yaml" in err.message and "b.yaml" in err.message
    assert err.path == "extends" and err.line == 1


def test_extends_self_cycle(tmp_path):
    write(tmp_path / "a.yaml", "x: 1\nextends: a.yaml\n")
    with pytest.raises(InputError) as info:
        resolve_extends(tmp_path / "a.yaml")
    assert "cycle" in info.value.message and info.value.line == 2


def test_extends_missing_parent_points_at_extends_line(tmp_path):
    child = write(tmp_path / "child.yaml", "name: x\nextends: nope.yaml\n")
    with pytest.raises(InputError) as info:
        resolve_extends(child)
    err = info.value
    assert err.file == str(child) and err.line == 2 and err.path == "extends"
    assert "nope.yaml" in err.message and "not found" in err.message


def test_extends_must_be_a_file_name(tmp_path):
    child = write(tmp_path / "child.yaml", "extends: [a.yaml]\n")
    with pytest.raises(InputError) as info:
        resolve_extends(child)
    assert info.value.path == "extends" and info.value.line == 1


def test_extends_error_in_parent_names_parent_file(tmp_path):
    base = write(tmp_path / "base.yaml", "a: [1\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\n")
    with pytest.raises(InputError) as info:
        resolve_extends(child)
    assert Path(info.value.file).resolve() == base.resolve()


def test_resolve_extends_without_extends_is_plain_load(tmp_path):
    path = write(tmp_path / "s.yaml", NESTED)
    assert resolve_extends(path) == load_yaml(path)


def test_deep_merge_does_not_modify_inputs():
    parent = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    child = {"a": {"y": [3]}, "c": 2}
    merged = deep_merge(parent, child)
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert parent == {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    assert child == {"a": {"y": [3]}, "c": 2}


# ----------------------------------------------------------------------------- overrides


def test_set_dotted_sets_existing_and_creates_intermediates():
    data = {"channels": {"phone": {"arrivals": {"rate_per_hour": 1}}}}
    set_dotted(data, "channels.phone.arrivals.rate_per_hour", 5)
    set_dotted(data, "channels.phone.bot.containment.simple", 0.7)
    assert data == {"channels": {"phone": {"arrivals": {"rate_per_hour": 5},
                                           "bot": {"containment": {"simple": 0.7}}}}}
    set_dotted(data, "top", "x")
    assert data["top"] == "x"


def test_set_dotted_fills_a_null_intermediate():
    data = {"bot": None}
    set_dotted(data, "bot.containment", 0.5)
    assert data == {"bot": {"containment": 0.5}}


def test_set_dotted_fails_on_scalar():
    data = {"channels": {"phone": 5}}
    with pytest.raises(InputError) as info:
        set_dotted(data, "channels.phone.arrivals.rate", 1)
    err = info.value
    assert err.path == "channels.phone.arrivals.rate"
    assert "channels.phone" in err.message and "not a mapping" in err.message
    assert data == {"channels": {"phone": 5}}


@pytest.mark.parametrize("dotted", ["", "a..b", ".a", "a.", " . "])
def test_set_dotted_rejects_empty_parts(dotted):
    data = {"a": {"b": 1}}
    with pytest.raises(InputError):
        set_dotted(data, dotted, 1)
    assert data == {"a": {"b": 1}}


def test_set_dotted_indexes_lists():
    data = {"targets": [{"metric": "a"}, {"metric": "b"}]}
    set_dotted(data, "targets.1.max", 60)
    assert data["targets"][1] == {"metric": "b", "max": 60}
    with pytest.raises(InputError) as info:
        set_dotted(data, "targets.5.max", 1)
    assert info.value.path == "targets.5.max"
    with pytest.raises(InputError):
        set_dotted(data, "targets.x", 1)


@pytest.mark.parametrize("text, path, value", [
    ("a.b=0.7", "a.b", 0.7),
    ("a.b=3", "a.b", 3),
    ("a.b=[a, b]", "a.b", ["a", "b"]),
    ("a.b=abc", "a.b", "abc"),
    ("a.b=true", "a.b", True),
    ("a.b='5'", "a.b", "5"),
    ("a.b={x: 1}", "a.b", {"x": 1}),
    ("a.b=", "a.b", None),
    (" a.b = 2 ", "a.b", 2),
    ("a.b=x=y", "a.b", "x=y"),
])
def test_parse_override_types(text, path, value):
    got_path, got = parse_override(text)
    assert got_path == path
    assert got == value and type(got) is type(value)


def test_parse_override_needs_equals():
    with pytest.raises(InputError) as info:
        parse_override("channels.phone.rate")
    assert "PATH=VALUE" in info.value.message


@pytest.mark.parametrize("text", ["=3", "a..b=3"])
def test_parse_override_bad_path(text):
    with pytest.raises(InputError):
        parse_override(text)


def test_parse_override_bad_value():
    with pytest.raises(InputError) as info:
        parse_override("a.b=[1, 2")
    assert info.value.path == "a.b"
    with pytest.raises(InputError):
        parse_override("a.b=!!python/object/apply:os.getcwd []")


def test_apply_overrides_returns_deep_copy_and_applies_in_order():
    data = {"a": {"b": 1, "l": [1, 2]}}
    out = apply_overrides(data, {"a.b": 2, "a.c.d": 3, "a.c": {"e": 4}})
    assert out == {"a": {"b": 2, "l": [1, 2], "c": {"e": 4}}}
    out["a"]["l"].append(3)
    assert data == {"a": {"b": 1, "l": [1, 2]}}


def test_apply_overrides_copies_values():
    value = {"x": [1]}
    out = apply_overrides({}, {"a": value})
    out["a"]["x"].append(2)
    assert value == {"x": [1]}


def test_apply_overrides_accepts_parsed_pairs():
    pairs = [parse_override("a.b=1"), parse_override("a.b=2")]
    assert apply_overrides({}, pairs) == {"a": {"b": 2}}


def test_forget_paths_and_locate():
    lm = {("a",): ("f", 1), ("a", "b"): ("f", 2), ("a", "b", "c"): ("f", 3),
          ("a", "bb"): ("f", 4)}
    assert forget_paths(lm, ["a.b"]) == {("a",): ("f", 1), ("a", "bb"): ("f", 4)}
    assert locate(lm, ("a", "b", "c", "d")) == ("f", 3)
    assert locate(lm, ["a", "x"]) == ("f", 1)
    assert locate(lm, ("z",)) is None
    assert locate(lm, ()) is None


# ----------------------------------------------------------------------------- validation


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Arrivals(_Strict):
    rate_per_hour: Annotated[float, Field(gt=0)]
    profile: list[Annotated[float, Field(ge=0)]] | None = None


class Tier(_Strict):
    name: str
    agents: Annotated[int, Field(ge=0)]


class Phone(_Strict):
    arrivals: Arrivals
    patience_s: float = 60.0


class Poisson(_Strict):
    kind: Literal["poisson"]
    rate: Annotated[float, Field(gt=0)]


class Empirical(_Strict):
    kind: Literal["empirical"]
    file: str


class Model(_Strict):
    name: str
    channels: dict[str, Phone]
    tiers: list[Tier] = []
    source: Annotated[Poisson | Empirical, Field(discriminator="kind")] | None = None
    either: Poisson | Empirical | None = None
    window: Window | None = None


class Window(_Strict):
    start: float
    end: float

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


Model.model_rebuild()

GOOD = """
name: demo
channels:
  phone:
    arrivals:
      rate_per_hour: 120
tiers:
  - name: t1
    agents: 5
  - name: t2
    agents: 3
"""


def validation_error(data) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Model.model_validate(data)
    return info.value


def load_bad(tmp_path, text):
    """Load text, return (file, data, linemap, ValidationError)."""
    path = write(tmp_path / "s.yaml", text)
    data, lm = load_yaml(path)
    return str(path), data, lm, validation_error(data)


def test_good_document_is_valid(tmp_path):
    data, _ = load_yaml(write(tmp_path / "s.yaml", GOOD))
    Model.model_validate(data)


def test_validation_scalar_error_path_line_and_got(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("rate_per_hour: 120", "rate_per_hour: -5"))
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert ie.path == "channels.phone.arrivals.rate_per_hour"
    assert (ie.file, ie.line) == (f, 5)
    assert ie.message == "Input should be greater than 0 (got -5)"
    assert str(ie) == (f"{f}, line 5, at channels.phone.arrivals.rate_per_hour: "
                       "Input should be greater than 0 (got -5).")


def test_validation_string_input_is_quoted(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("agents: 3", "agents: lots"))
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert ie.path == "tiers.1.agents"
    assert ie.line == 10
    assert "(got 'lots')" in ie.message


def test_validation_list_item_path_and_line(tmp_path):
    text = GOOD.replace("rate_per_hour: 120", "rate_per_hour: 120\n      profile: [1, 2, -3]")
    f, data, lm, err = load_bad(tmp_path, text)
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert ie.path == "channels.phone.arrivals.profile.2"
    assert ie.line == 6
    assert "greater than or equal to 0" in ie.message and "(got -3)" in ie.message


def test_validation_unknown_key_with_did_you_mean(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("rate_per_hour: 120",
                                                       "rate_per_hour: 120\n      rate_per_hr: 3"))
    ie = input_error_from_validation(err, file=f, linemap=lm,
                                     allowed_keys=model_allowed_keys(Model))
    assert ie.path == "channels.phone.arrivals.rate_per_hr"
    assert ie.line == 6
    assert ie.message == "unknown key 'rate_per_hr'; did you mean 'rate_per_hour'?"


def test_validation_unknown_key_with_custom_allowed_keys(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("name: demo", "name: demo\nchanels: {}"))
    seen = []

    def allowed(path):
        seen.append(path)
        return ["name", "channels", "tiers"] if path == () else None

    ie = input_error_from_validation(err, file=f, linemap=lm, allowed_keys=allowed)
    assert seen == [()]
    assert ie.path == "chanels" and ie.line == 2
    assert "unknown key 'chanels'; did you mean 'channels'?" in ie.message


def test_validation_unknown_key_without_close_match_lists_allowed(tmp_path):
    text = GOOD.replace("    agents: 5", "    agents: 5\n    zzz: 1")
    f, data, lm, err = load_bad(tmp_path, text)
    ie = input_error_from_validation(err, file=f, linemap=lm,
                                     allowed_keys=model_allowed_keys(Model))
    assert ie.path == "tiers.0.zzz" and ie.line == 9
    assert "did you mean" not in ie.message
    assert "expected one of: agents, name" in ie.message


def test_validation_unknown_key_without_allowed_keys(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("name: demo", "name: demo\nnmae: x"))
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert ie.message == "unknown key 'nmae'"


def test_validation_allowed_keys_callable_errors_are_ignored(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("name: demo", "name: demo\nnmae: x"))

    def broken(path):
        raise RuntimeError("boom")

    ie = input_error_from_validation(err, file=f, linemap=lm, allowed_keys=broken)
    assert ie.message == "unknown key 'nmae'"


def test_validation_missing_field_points_at_parent(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("    agents: 3\n", ""))
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert ie.path == "tiers.1.agents"
    assert ie.line == 9  # the list item that lacks it
    assert ie.message == "required field missing"


def test_validation_missing_top_level_field_has_no_line(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("name: demo\n", ""))
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert ie.path == "name" and ie.line is None and ie.file == f


def test_validation_counts_more_problems(tmp_path):
    text = GOOD.replace("rate_per_hour: 120", "rate_per_hour: -1")
    text = text.replace("agents: 3", "agents: -3")
    text = text.replace("name: demo", "name: [x]")
    f, data, lm, err = load_bad(tmp_path, text)
    assert err.error_count() == 3
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert len(ie.others) == 2 and len(ie.lines()) == 3
    lines = [e.line for e in [ie, *ie.others]]
    assert lines == sorted(lines) and all(f in text for text in ie.lines())
    assert {e.path for e in [ie, *ie.others]} == {
        "name", "channels.phone.arrivals.rate_per_hour", "tiers.1.agents"}
    text1 = GOOD.replace("agents: 3", "agents: -3").replace("agents: 5", "agents: -5")
    _, _, lm1, err1 = load_bad(tmp_path, text1)
    assert len(input_error_from_validation(err1, file=f, linemap=lm1).others) == 1


def test_validation_keeps_the_hint_of_an_unknown_key_next_to_a_missing_one(tmp_path):
    """`mean: 210` instead of `mean_s: 210`: one problem, the unknown key with its hint
    (the "required field missing" of mean_s is the same problem), and the file's other
    problems listed too, in file order."""
    from sim.inputs.scenario import load_scenario

    root = Path(__file__).resolve().parents[1]
    text = (root / "scenarios" / "demo.yaml").read_text()
    text = text.replace("mean_s: 210", "mean: 210", 1).replace("agents: 34", "agents: -34")
    path = write(tmp_path / "s.yaml", text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    ie = info.value
    assert len(ie.lines()) == 2, ie.lines()
    assert "handle_time.simple.mean: unknown key 'mean'; did you mean 'mean_s'?" in ie.lines()[0]
    assert "tiers.base.agents" in ie.lines()[1] and ie.others[0].line > ie.line


def test_validation_container_input_is_not_shown(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD.replace("name: demo", "name: [a, b]"))
    ie = input_error_from_validation(err, file=f, linemap=lm)
    assert ie.path == "name" and ie.line == 1
    assert "got" not in ie.message


def test_validation_model_validator_error(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD + "window: {start: 5, end: 1}\n")
    ie = input_error_from_validation(err, file=f, linemap=lm, data=data)
    assert ie.path == "window" and ie.line == 11
    assert ie.message == "end must be after start"  # "Value error, " dropped


@pytest.mark.parametrize("with_data", [True, False])
def test_validation_discriminated_union_tag_is_dropped(tmp_path, with_data):
    f, data, lm, err = load_bad(tmp_path, GOOD + "source:\n  kind: poisson\n  rate: 0\n")
    assert "poisson" in err.errors()[0]["loc"]
    kwargs = {"data": data} if with_data else {}
    ie = input_error_from_validation(err, file=f, linemap=lm, **kwargs)
    assert ie.path == "source.rate"
    assert ie.line == 13
    assert "(got 0)" in ie.message


@pytest.mark.parametrize("with_data", [True, False])
def test_validation_smart_union_member_name_is_dropped(tmp_path, with_data):
    f, data, lm, err = load_bad(tmp_path, GOOD + "either:\n  kind: poisson\n  rate: -1\n")
    assert "Poisson" in err.errors()[0]["loc"]
    kwargs = {"data": data} if with_data else {}
    ie = input_error_from_validation(err, file=f, linemap=lm, **kwargs)
    assert ie.path == "either.rate"
    assert ie.line == 13


def test_validation_union_member_label_at_end_is_dropped(tmp_path):
    f, data, lm, err = load_bad(tmp_path, GOOD + "either: 5\n")
    assert err.errors()[0]["loc"][-1] == "Poisson"
    ie = input_error_from_validation(err, file=f, linemap=lm, data=data)
    assert ie.path == "either" and ie.line == 11


def test_validation_line_points_into_parent_file(tmp_path):
    base = write(tmp_path / "base.yaml", GOOD.replace("agents: 3", "agents: -3"))
    child = write(tmp_path / "child.yaml", "extends: base.yaml\nname: child\n")
    data, lm = resolve_extends(child)
    ie = input_error_from_validation(validation_error(data), file=str(child), linemap=lm)
    assert ie.file == str(base) and ie.line == 10 and ie.path == "tiers.1.agents"


def test_validation_unknown_line_for_variant_override():
    err = validation_error({"name": "x", "channels": {"phone": {"arrivals": {"rate_per_hour": 0}}}})
    ie = input_error_from_validation(err, file="s.yaml", linemap={},
                                     prefix=("variants", "busy"))
    assert ie.file == "s.yaml" and ie.line is None
    assert ie.path == "variants.busy.channels.phone.arrivals.rate_per_hour"
    assert str(ie) == ("s.yaml, at variants.busy.channels.phone.arrivals.rate_per_hour: "
                       "Input should be greater than 0 (got 0).")


def test_validation_prefix_is_used_for_line_lookup():
    class Sub(_Strict):
        rate: Annotated[float, Field(gt=0)]

    lm = {("variants",): ("s.yaml", 3), ("variants", "busy"): ("s.yaml", 4),
          ("variants", "busy", "rate"): ("s.yaml", 5)}
    with pytest.raises(ValidationError) as info:
        Sub.model_validate({"rate": -1})
    ie = input_error_from_validation(info.value, file="s.yaml", linemap=lm,
                                     prefix=("variants", "busy"))
    assert ie.path == "variants.busy.rate" and ie.line == 5


def test_model_allowed_keys_follows_dicts_lists_and_unions():
    allowed = model_allowed_keys(Model)
    assert set(allowed(())) == {"name", "channels", "tiers", "source", "either", "window"}
    assert set(allowed(("channels", "phone"))) == {"arrivals", "patience_s"}
    assert set(allowed(("channels", "phone", "arrivals"))) == {"rate_per_hour", "profile"}
    assert set(allowed(("tiers", "0"))) == {"name", "agents"}
    assert set(allowed(("source",))) == {"kind", "rate", "file"}
    assert allowed(("name",)) is None
    assert allowed(("nope",)) is None


def test_validation_never_crashes_on_non_pydantic_error():
    ie = input_error_from_validation(ValueError("odd"), file="s.yaml", linemap={})
    assert isinstance(ie, InputError) and ie.file == "s.yaml"


def test_validation_union_member_name_dropped_without_data_or_lines():
    err = validation_error({"name": "x", "channels": {},
                            "either": {"kind": "poisson", "rate": -1}})
    assert err.errors()[0]["loc"] == ("either", "Poisson", "rate")
    ie = input_error_from_validation(err, file="s.yaml", linemap={}, prefix=("variants", "v"))
    assert ie.path == "variants.v.either.rate" and ie.line is None


def test_extends_null_removes_an_inherited_key(tmp_path):
    (tmp_path / "parent.yaml").write_text(
        "name: p\nchannels:\n  phone: {a: 1}\n  email: {b: 2}\nbot: {x: 1}\n")
    (tmp_path / "child.yaml").write_text(
        "extends: parent.yaml\nchannels: {email: null}\nbot: null\nnew: null\n")
    data, lines = resolve_extends(tmp_path / "child.yaml")
    assert data == {"name": "p", "channels": {"phone": {"a": 1}}, "new": None}
    assert ("channels", "email") not in lines or lines[("channels", "email")][0].endswith(
        "child.yaml")


def test_extends_a_redefined_variant_replaces_the_inherited_one(tmp_path):
    (tmp_path / "parent.yaml").write_text(
        "name: p\nvariants:\n  v: {a.b: 1, a.c: 2}\n  w: {a.b: 3}\n")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nvariants:\n  v: {a.d: 4}\n")
    data, lines = resolve_extends(tmp_path / "child.yaml")
    assert data["variants"] == {"v": {"a.d": 4}, "w": {"a.b": 3}}
    assert lines[("variants", "v", "a.d")] == (str(tmp_path / "child.yaml"), 3)
    assert ("variants", "v", "a.b") not in lines


# ----------------------------------------------------------------------- hostile files (#10)

def test_an_alias_bomb_is_measured_not_expanded(tmp_path):
    import time

    lines = ["l0: &l0 [a, a, a, a, a, a, a, a, a, a]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 12)]
    path = write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")   # 10^12 values expanded
    t0 = time.perf_counter()
    err = load_error(path)
    assert "aliases" in err.message and time.perf_counter() - t0 < 1.0


def test_aliases_within_the_bound_still_work(tmp_path):
    data, _ = load_yaml(write(tmp_path / "ok.yaml", "a: &x [1, 2]\nb: *x\nc: *x\n"))
    assert data["b"] == data["c"] == [1, 2]


def test_a_recursive_alias_is_refused(tmp_path):
    err = load_error(write(tmp_path / "r.yaml", "a: 1\nb: &x\n  c: [*x]\n"))
    assert "contains itself" in err.message and err.line == 2   # the anchor's line


def test_too_many_values_are_refused_while_reading(tmp_path):
    from sim.base.limits import MAX_YAML_NODES

    path = write(tmp_path / "big.yaml", "a: [" + ",".join(["1"] * (MAX_YAML_NODES + 5)) + "]\n")
    assert "YAML values" in load_error(path).message


def test_a_nul_byte_is_an_input_error_with_its_line(tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"a: 1\nb: x\x00y\n")
    err = load_error(path)
    assert err.line == 2 and "control character" in err.message


@pytest.mark.parametrize("make, words", [
    (lambda d: d.mkdir(), "directory"),
    (lambda d: __import__("os").mkfifo(d), "FIFO"),
    (lambda d: d.symlink_to("/dev/zero"), "device"),
    (lambda d: d.symlink_to(d), "loop"),
])
def test_only_regular_files_are_read(tmp_path, make, words):
    target = tmp_path / "t.yaml"
    make(target)
    assert words in load_error(target).message


def test_a_referenced_file_is_never_quoted(tmp_path):
    secret = "hunter2-secret"
    write(tmp_path / "a.yaml", f"x: [{secret}\n")
    write(tmp_path / "b.yaml", f"name: *{secret}\n")
    write(tmp_path / "c.yaml", f"{secret}: 1\n{secret}: 2\n")
    write(tmp_path / "d.yaml", f"password: {secret}\n")
    for parent in "abcd":
        child = write(tmp_path / f"child-{parent}.yaml", f"extends: {parent}.yaml\n")
        with pytest.raises(InputError) as info:
            resolve_extends(child, top_keys={"name", "x"})
        assert secret not in "\n".join(info.value.lines()), parent
    # the same errors in the file on the command line may quote it (the user's own)
    with pytest.raises(InputError) as info:
        resolve_extends(tmp_path / "c.yaml")
    assert secret in info.value.message


def test_a_referenced_yaml_file_must_be_a_scenario_file(tmp_path):
    write(tmp_path / "other.yaml", "database: {password: x}\nname: y\n")
    child = write(tmp_path / "child.yaml", "extends: other.yaml\n")
    with pytest.raises(InputError) as info:
        resolve_extends(child, top_keys={"name", "channels"})
    err = info.value
    assert "not a scenario file" in err.message and "password" not in str(err)
    assert err.file == str(child) and err.line == 1 and err.path == "extends"


def test_numbers_beyond_the_bounds_name_line_and_path(tmp_path):
    path = write(tmp_path / "s.yaml", """
        horizon_hours: .inf
        channels:
          phone:
            arrivals: {rate_per_hour: 2.0e+6}
        variants:
          big: {tiers.base.agents: 1000000}
        """)
    err = load_error(path)
    by_path = {e.path: e for e in [err, *err.others]}
    assert "finite" in by_path["horizon_hours"].message and by_path["horizon_hours"].line == 1
    assert "at most 1,000,000" in by_path["channels.phone.arrivals.rate_per_hour"].message
    assert by_path["variants.big.tiers.base.agents"].line == 6


def test_extends_chains_are_bounded(tmp_path):
    for i in range(25):
        write(tmp_path / f"c{i}.yaml", f"extends: c{i + 1}.yaml\n")
    with pytest.raises(InputError) as info:
        resolve_extends(tmp_path / "c0.yaml")
    assert "more than 20" in info.value.message
