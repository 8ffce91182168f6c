#!/usr/bin/env python3
"""Role variables are declared once, in each role's meta/argument_specs.yml; check everything else agrees.

Checks, for every role under roles/:
  * defaults/main.yml and the argument specs (all entry points) name the same variables with the same
    default values; a default of the form "{{ old_name | default(<value>) }}" (a renamed variable whose
    old name still applies) counts as <value>, and old_name must be in vars/main.yml's __<role>_renamed_vars;
  * an option declared by several entry points is declared identically (YAML anchors keep it one text);
  * the variables table in the role's README.md (between the markers below) is the one generated from
    the specs.
Usage: scripts/role_vars.py [--write]     --write regenerates the README tables instead of checking them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

REPO = Path(__file__).resolve().parent.parent
BEGIN = "<!-- BEGIN variables: generated from meta/argument_specs.yml by scripts/role_vars.py --write -->"
END = "<!-- END variables -->"
# "{{ docker_x | default(<jinja literal>) }}", possibly folded over several lines.
_FALLBACK = re.compile(r"^\{\{\s*(\w+)\s*\|\s*default\((.*)\)\s*\}\}$", re.DOTALL)
_MARKUP = re.compile(r"\b([COVMPI])\(([^()]*(?:\([^()]*\)[^()]*)*)\)")


@dataclass(frozen=True)
class Role:
    name: str
    path: Path
    defaults: dict
    options: dict  # name -> spec
    entry_points: dict  # name -> [entry points declaring it]
    renamed: dict  # old name -> new name


def _load(path: Path) -> dict:
    return (yaml.safe_load(path.read_text()) if path.is_file() else None) or {}


def load_role(path: Path, problems: list) -> Role:
    name = path.name
    specs = _load(path / "meta" / "argument_specs.yml").get("argument_specs", {})
    options: dict = {}
    entry_points: dict = {}
    for entry, spec in specs.items():
        for option, option_spec in (spec.get("options") or {}).items():
            if option in options and options[option] != option_spec:
                problems.append(
                    f"{name}: {option} is declared differently in the entry points {entry_points[option]} and {entry} — "
                    "fix: declare it once with a YAML anchor (&name) and refer to it (*name)"
                )
            options.setdefault(option, option_spec)
            entry_points.setdefault(option, []).append(entry)
    renamed = _load(path / "vars" / "main.yml").get(f"__{name}_renamed_vars") or {}
    return Role(name, path, _load(path / "defaults" / "main.yml"), options, entry_points, renamed)


def effective_default(role: Role, name: str, value: object, problems: list) -> object:
    """The default a variable has when its deprecated old name is not set."""
    match = _FALLBACK.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return value
    old, literal = match.groups()
    if role.renamed.get(old) != name:
        problems.append(
            f"{role.name}: defaults/main.yml falls back from {name} to {old}, which vars/main.yml's "
            f"__{role.name}_renamed_vars does not list as its old name — fix: add `{old}: {name}` there or remove the fallback"
        )
    try:
        return jinja2.Environment(autoescape=False).compile_expression(literal)()  # noqa: S701 - literals only, no HTML
    except jinja2.TemplateError as exc:
        problems.append(f"{role.name}: the fallback default of {name} is not a literal ({exc}) — fix: write a plain value")
        return value


def check_defaults(role: Role, problems: list) -> None:
    for name, value in role.defaults.items():
        spec = role.options.get(name)
        if spec is None:
            problems.append(f"{role.name}: {name} is in defaults/main.yml but not in meta/argument_specs.yml — fix: declare it there")
            continue
        default = effective_default(role, name, value, problems)
        if "default" not in spec:
            problems.append(f"{role.name}: {name} has no default in meta/argument_specs.yml — fix: add default: {json.dumps(default)}")
        elif spec["default"] != default:
            problems.append(
                f"{role.name}: {name} defaults to {json.dumps(default)} in defaults/main.yml but to "
                f"{json.dumps(spec['default'])} in meta/argument_specs.yml — fix: make them equal (the spec is the reference)"
            )
    for name, spec in role.options.items():
        if name not in role.defaults and not spec.get("required"):
            problems.append(f"{role.name}: {name} is declared in meta/argument_specs.yml but missing from defaults/main.yml — fix: add it there")
    for old, new in role.renamed.items():
        value = role.defaults.get(new)
        match = _FALLBACK.match(value.strip()) if isinstance(value, str) else None
        if not match or match.group(1) != old:
            problems.append(
                f"{role.name}: {old} is listed as renamed to {new}, but defaults/main.yml does not fall back to it — "
                f'fix: {new}: "{{{{ {old} | default(...) }}}}"'
            )


def _markup(text: str) -> str:
    """ansible-doc markup to Markdown: C(x), O(x), V(x), M(x), P(x) become `x`; I(x) becomes *x*."""
    return _MARKUP.sub(lambda m: f"*{m.group(2)}*" if m.group(1) == "I" else f"`{m.group(2)}`", text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(spec: dict) -> str:
    if "default" not in spec:
        return "(required)"
    value = spec["default"]
    shown = json.dumps(value) if not isinstance(value, str) or value == "" else value
    return f"`{shown}`"


def table(role: Role) -> str:
    several = len({entry for entries in role.entry_points.values() for entry in entries}) > 1
    head = ["Variable", "Type", "Default", "Description"] + (["Entry points"] if several else [])
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in sorted(role.options):
        spec = role.options[name]
        description = spec.get("description", "")
        description = " ".join(description) if isinstance(description, list) else description
        kind = spec.get("type", "str") + (f" of {spec['elements']}" if spec.get("elements") else "")
        if spec.get("choices"):
            kind += " (" + ", ".join(f"`{c}`" for c in spec["choices"]) + ")"
        cells = [f"`{name}`", kind, _default(spec), _markup(description)]
        if several:
            cells.append(", ".join(role.entry_points[name]))
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if role.renamed:
        rows += ["", "Deprecated names, still read (with a deprecation warning) unless the new name is set:", ""]
        rows += ["| Old name | New name |", "|---|---|"] + [f"| `{old}` | `{new}` |" for old, new in sorted(role.renamed.items())]
    return "\n".join(rows)


def check_readme(role: Role, write: bool, problems: list) -> None:
    readme = role.path / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        problems.append(f"{role.name}: README.md has no generated variables table — fix: put the lines\n  {BEGIN}\n  {END}\n  where it belongs")
        return
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END)
    wanted = "\n" + table(role) + "\n"
    if text[start:end] == wanted:
        return
    if write:
        readme.write_text(text[:start] + wanted + text[end:])
        print(f"{readme.relative_to(REPO)}: variables table regenerated")
    else:
        problems.append(f"{role.name}: the variables table in README.md is out of date — fix: run scripts/role_vars.py --write")


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="regenerate the README tables")
    args = parser.parse_args(argv)
    problems: list = []
    roles = sorted(path for path in (REPO / "roles").iterdir() if (path / "meta" / "argument_specs.yml").is_file())
    for path in roles:
        role = load_role(path, problems)
        check_defaults(role, problems)
        check_readme(role, args.write, problems)
    for problem in problems:
        print(f"role_vars: {problem}", file=sys.stderr)
    if not problems:
        print(f"ok: role variables of {', '.join(p.name for p in roles)}: defaults = argument specs, README tables current")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
