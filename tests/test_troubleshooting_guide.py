"""docs/guides/troubleshooting.md explains every check `rcauth doctor` can report, one `##` section a
check, headed by the check's name as doctor prints it (a name made from a value, `session {profile}`,
with the value's name in capitals: `session PROFILE`), and no section for a check that does not exist.

The names are read from rcauth/diagnose.py itself: every call that makes a `Check` (the dataclass, or a
function of the module that passes one of its parameters on as a check's name, found as far as that
goes), followed to the string that names it. A name the reading cannot follow to a string fails the
test rather than being skipped, so a new check cannot slip past it; and the names doctor really emits,
run in-process against the emulator, must be among those read.
"""

from __future__ import annotations

import ast
import json
import re
import socket
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import cli_runner
from helpers import free_port

import rcauth
from rcauth.cli import cli
from ringcentral_emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "guides" / "troubleshooting.md"
DIAGNOSE = Path(rcauth.__file__).parent / "diagnose.py"
# The guide's sections that explain no single check.
GENERAL_SECTIONS = ("What it checks", "Reading the report", "Errors outside doctor")


@dataclass(frozen=True)
class CheckName:
    """A check's name as the guide heads its section (`shown`) and as doctor prints it (`pattern`)."""

    shown: str
    pattern: str
    line: int

    def matches(self, printed: str) -> bool:
        return re.fullmatch(self.pattern, printed) is not None


class Unreadable(AssertionError):
    """A check whose name the reading cannot follow to a string: make it one it can, or teach it."""


def _params(function: ast.FunctionDef) -> list[str]:
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]


def _name_argument(call: ast.Call, param: str, index: int | None) -> ast.expr | None:
    """The argument `call` gives the maker's name parameter, positionally or by keyword."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise Unreadable(f"diagnose.py:{call.lineno}: a check made with *args or **kwargs")
    if index is not None and index < len(call.args):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == param), None)


class _Calls(ast.NodeVisitor):
    """Every call in the module, with the function it is in (None at module level)."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Call, ast.FunctionDef | None]] = []
        self._stack: list[ast.FunctionDef] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._stack.append(node)
        self.generic_visit(node)
        self._stack.pop()

    def visit_Call(self, node: ast.Call) -> None:
        self.found.append((node, self._stack[-1] if self._stack else None))
        self.generic_visit(node)


def _callee(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def _makers(
    tree: ast.Module, calls: list[tuple[ast.Call, ast.FunctionDef | None]]
) -> dict[str, tuple[str, int | None]]:
    """Which callables make a check, and which of their parameters is its name: `Check`'s first
    field, then every function of the module that passes a parameter of its own on as that name (to
    `Check` or to such a function), until no more are found."""
    check = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Check")
    fields = [
        n.target.id for n in check.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    ]
    makers: dict[str, tuple[str, int | None]] = {"Check": (fields[0], 0)}
    changed = True
    while changed:
        changed = False
        for call, function in calls:
            maker = makers.get(_callee(call) or "")
            if maker is None or function is None or function.name in makers:
                continue
            argument = _name_argument(call, *maker)
            if isinstance(argument, ast.Name) and argument.id in _params(function):
                positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
                index = positional.index(argument.id) if argument.id in positional else None
                makers[function.name] = (argument.id, index)
                changed = True
    return makers


def _annotation_nodes(tree: ast.Module) -> set[int]:
    """ids of every node inside a type annotation (where `Check` names a type, not a check)."""
    inside: set[int] = set()
    roots: list[ast.expr | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            roots.append(node.returns)
            args = node.args
            roots += [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            roots += [a.annotation for a in (args.vararg, args.kwarg) if a is not None]
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    for root in roots:
        if root is not None:
            inside |= {id(n) for n in ast.walk(root)}
    return inside


def _bindings(scope: ast.FunctionDef, name: str) -> tuple[list[ast.expr], bool]:
    """The values `name` is assigned in `scope`, and whether it is bound any other way too (a loop,
    a `with ... as`, `:=`, `+=`, an import, an `except ... as`)."""
    values: list[ast.expr] = []
    other = False
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            values.append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            other = other or node.value is None
            values += [node.value] if node.value is not None else []
        elif isinstance(node, ast.Assign):
            other = other or any(
                isinstance(n, ast.Name) and n.id == name for t in node.targets for n in ast.walk(t)
            )
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension | ast.AugAssign | ast.NamedExpr):
            other = other or any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.target))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            other = other or any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.optional_vars)
            )
        elif isinstance(node, ast.ExceptHandler):
            other = other or node.name == name
        elif isinstance(node, ast.Import | ast.ImportFrom):
            other = other or any((a.asname or a.name).split(".")[0] == name for a in node.names)
    return values, other


def _names_of(
    expr: ast.expr, scope: ast.FunctionDef | None, passed_on: str | None
) -> list[tuple[str, str]] | None:
    """(shown, pattern) for each name `expr` can be; None when it is the enclosing maker's own name
    parameter (its callers are read instead). Raises `Unreadable` for anything it cannot follow."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [(expr.value, re.escape(expr.value))]
    if isinstance(expr, ast.JoinedStr):
        shown, pattern = "", ""
        for part in expr.values:
            if isinstance(part, ast.Constant):
                shown += str(part.value)
                pattern += re.escape(str(part.value))
            else:
                assert isinstance(part, ast.FormattedValue)
                shown += re.sub(r"\W+", "_", ast.unparse(part.value)).strip("_").upper()
                pattern += ".+"
        return [(shown, pattern)]
    if isinstance(expr, ast.IfExp):
        return [
            *(_names_of(expr.body, scope, passed_on) or []),
            *(_names_of(expr.orelse, scope, passed_on) or []),
        ]
    if isinstance(expr, ast.Name) and scope is not None:
        if expr.id == passed_on:
            return None
        if expr.id in _params(scope):
            raise Unreadable(f"diagnose.py:{expr.lineno}: a check named by the parameter {expr.id!r}")
        values, other = _bindings(scope, expr.id)
        if not values or other:
            raise Unreadable(f"diagnose.py:{expr.lineno}: {expr.id!r} is not only assigned strings")
        return [name for value in values for name in (_names_of(value, scope, passed_on) or [])]
    raise Unreadable(f"diagnose.py:{expr.lineno}: a check named by {ast.unparse(expr)!r}")


def check_names(source: str) -> list[CheckName]:
    """Every name a check made in `source` (rcauth/diagnose.py's text) can have."""
    tree = ast.parse(source)
    visitor = _Calls()
    visitor.visit(tree)
    makers = _makers(tree, visitor.found)
    called = {id(call.func) for call, _ in visitor.found}
    annotations = _annotation_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in makers and id(node) not in called | annotations:
            raise Unreadable(f"diagnose.py:{node.lineno}: {node.id} used other than by calling it")
    names: dict[str, CheckName] = {}
    for call, function in visitor.found:
        maker = makers.get(_callee(call) or "")
        if maker is None:
            continue
        argument = _name_argument(call, *maker)
        if argument is None:
            raise Unreadable(f"diagnose.py:{call.lineno}: a check made without a name")
        passed_on = makers[function.name][0] if function is not None and function.name in makers else None
        for shown, pattern in _names_of(argument, function, passed_on) or []:
            names.setdefault(shown, CheckName(shown, pattern, call.lineno))
    return list(names.values())


def guide_sections(text: str) -> list[str]:
    """The `##` headings of a Markdown page, outside fenced blocks."""
    headings, fence = [], None
    for line in text.splitlines():
        opening = re.match(r"\s*(`{3,}|~{3,})", line)
        if opening:
            mark = opening.group(1)
            if fence is None:
                fence = mark
            elif mark.startswith(fence):
                fence = None
            continue
        if fence is None and (heading := re.match(r"## (.+?)\s*#*\s*$", line)):
            headings.append(heading.group(1))
    return headings


def missing_and_stale(source: str, page: str) -> tuple[list[str], list[str]]:
    names = {name.shown for name in check_names(source)}
    sections = [s for s in guide_sections(page) if s not in GENERAL_SECTIONS]
    return sorted(names - set(sections)), sorted(set(sections) - names)


def test_every_check_doctor_can_report_has_a_section_in_the_troubleshooting_guide() -> None:
    missing, _ = missing_and_stale(DIAGNOSE.read_text(encoding="utf-8"), GUIDE.read_text(encoding="utf-8"))
    assert missing == [], f"add a `## NAME` section to {GUIDE.relative_to(REPO)} for each of {missing}"


def test_every_section_of_the_troubleshooting_guide_is_a_check_doctor_reports() -> None:
    _, stale = missing_and_stale(DIAGNOSE.read_text(encoding="utf-8"), GUIDE.read_text(encoding="utf-8"))
    assert stale == [], (
        f"{stale}: no check of rcauth/diagnose.py has this name; rename or remove the section, or add it "
        "to GENERAL_SECTIONS if it explains no single check"
    )


def test_the_guide_has_one_section_a_check() -> None:
    sections = guide_sections(GUIDE.read_text(encoding="utf-8"))
    assert len(sections) == len(set(sections)), sections
    assert set(GENERAL_SECTIONS) <= set(sections)


def test_the_reading_notices_a_check_added_without_a_section() -> None:
    source = DIAGNOSE.read_text(encoding="utf-8")
    added = source + textwrap.dedent(
        """

        def check_token_cache() -> Check:
            return Check("token cache", Status.WARNING, "stale")


        def check_media(server: str) -> Check:
            label = f"media {server}"
            return ok(label, "answers")


        def _skipped(name: str, why: str) -> Check:
            return _failed(name, RcauthError(why))


        def check_jwt() -> Check:
            return _skipped("JWT credential", "none")
        """
    )
    missing, stale = missing_and_stale(added, GUIDE.read_text(encoding="utf-8"))
    assert missing == ["JWT credential", "media SERVER", "token cache"]
    assert stale == []


@pytest.mark.parametrize(
    "made",
    [
        "Check(label(), Status.OK, '')",  # a name computed by a call
        "Check(*parts)",
        "ok('proxy ' + kind, '')",
        "[ok(each, '') for each in (kind, 'other')][0]",  # a name bound by a loop
    ],
)
def test_the_reading_fails_on_a_name_it_cannot_follow(made: str) -> None:
    source = (
        DIAGNOSE.read_text(encoding="utf-8") + f"\n\ndef check_more(kind: str) -> Check:\n    return {made}\n"
    )
    with pytest.raises(Unreadable):
        check_names(source)


def test_the_reading_fails_on_a_maker_passed_around_uncalled() -> None:
    source = DIAGNOSE.read_text(encoding="utf-8") + "\n\nMAKE = ok\n"
    with pytest.raises(Unreadable):
        check_names(source)


def test_no_other_module_of_rcauth_makes_checks() -> None:
    """The reading covers diagnose.py: a check made elsewhere, with `Check` or any function of
    diagnose.py that takes a check's name, would escape it."""
    tree = ast.parse(DIAGNOSE.read_text(encoding="utf-8"))
    visitor = _Calls()
    visitor.visit(tree)
    makers = set(_makers(tree, visitor.found))
    assert {"Check", "ok", "_failed"} <= makers, makers
    for path in sorted(Path(rcauth.__file__).parent.rglob("*.py")):
        if path == DIAGNOSE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "rcauth.diagnose":
                assert not {a.name for a in node.names} & makers, (
                    f"{path.name}:{node.lineno} imports a check maker"
                )
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "diagnose"
            ):
                assert node.attr not in makers, f"{path.name}:{node.lineno} makes a check"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(rate_limits_enabled=False), host="127.0.0.1", port=0) as emu:
        yield emu


def doctor_check_names(*args: str) -> list[str]:
    result = cli_runner().invoke(cli, ["doctor", "--json", *args])
    assert result.exit_code in (0, 1), (result.output, result.exception)
    return [check["name"] for check in json.loads(result.stdout)["checks"]]


def test_the_names_doctor_emits_are_among_those_read_from_the_code(
    emulator: Emulator, isolated: Path
) -> None:
    names = check_names(DIAGNOSE.read_text(encoding="utf-8"))
    state = isolated / "state"
    state.mkdir(parents=True)
    (state / "profiles.json").write_text("{not json", encoding="utf-8")  # the profile index check
    settings = ["--client-id", "rcauth-emulator-client", "--server", emulator.base_url]
    redirect = ["--redirect-uri", f"http://127.0.0.1:{free_port()}/oauth2callback"]
    emitted = doctor_check_names(*settings, *redirect, "--all")
    emitted += doctor_check_names("--server", f"http://127.0.0.1:{free_port()}")  # no client id, no server
    with socket.socket() as held:  # a redirect port in use
        held.bind(("127.0.0.1", 0))
        held.listen()
        emitted += doctor_check_names(
            *settings, "--redirect-uri", f"http://127.0.0.1:{held.getsockname()[1]}/cb"
        )
    assert {"clock", "profile index", "session default", "browser"} <= set(emitted)
    unread = sorted({e for e in emitted if not any(name.matches(e) for name in names)})
    assert unread == [], f"doctor emitted checks the reading of diagnose.py did not find: {unread}"


def advice_pieces(source: str) -> list[str]:
    """The literal text of every hint diagnose.py writes itself (a `Check`'s fourth field), followed
    through names and conditionals, cut at each value put in: each piece of 20 characters or more."""
    tree = ast.parse(source)
    visitor = _Calls()
    visitor.visit(tree)
    pieces: list[str] = []

    def collect(
        expr: ast.expr | None, scope: ast.FunctionDef | None, seen: frozenset[str] = frozenset()
    ) -> None:
        if expr is None:
            return
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            pieces.append(expr.value)
        elif isinstance(expr, ast.JoinedStr):
            pieces.extend(str(p.value) for p in expr.values if isinstance(p, ast.Constant))
        elif isinstance(expr, ast.IfExp):
            collect(expr.body, scope, seen)
            collect(expr.orelse, scope, seen)
        elif isinstance(expr, ast.BinOp):
            collect(expr.left, scope, seen)
            collect(expr.right, scope, seen)
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values:
                collect(value, scope, seen)
        elif isinstance(expr, ast.Name) and scope is not None and expr.id not in seen:
            for value in _bindings(scope, expr.id)[0]:  # `hint = "..." + hint` is read once
                collect(value, scope, seen | {expr.id})

    for call, function in visitor.found:
        if _callee(call) == "Check":
            hint = (
                call.args[3]
                if len(call.args) > 3
                else next((k.value for k in call.keywords if k.arg == "hint"), None)
            )
            collect(hint, function)
    return [piece for piece in pieces if len(piece.strip()) >= 20]


def test_the_guide_quotes_each_advice_diagnose_gives_as_the_code_words_it() -> None:
    page = " ".join(GUIDE.read_text(encoding="utf-8").split())
    pieces = advice_pieces(DIAGNOSE.read_text(encoding="utf-8"))
    assert len(pieces) >= 10, pieces  # the reading found the hints
    unquoted = [piece for piece in pieces if " ".join(piece.split()) not in page]
    assert unquoted == [], f"advice doctor gives that the guide does not quote as written: {unquoted}"
