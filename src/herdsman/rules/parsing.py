"""What a rule parser needs to know about the line it reads (``struct proxy``'s
``conf.args`` and the proxy itself): where it is, the proxy's ACLs, how to
compile expressions and log-format strings for a given place, where
warnings go. The configuration layer builds one ``ParseEnv`` per line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from herdsman.http.errors import Reply
from herdsman.sample import registry as R
from herdsman.sample.acl import Acl, AclContext, AclError
from herdsman.sample.cond import Condition, parse_condition
from herdsman.sample.expr import Expr, ExprError, parse_expr
from herdsman.sample.logformat import LogFormatError, Piece, compile_logformat
from herdsman.sample.pattern import PatternFiles
from herdsman.sample.registry import Compiler
from herdsman.sample.txn import Ref


class RuleError(ValueError):
    """A parse error: ``message`` is the inner text the keyword's caller frames."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ParseEnv:
    """One configuration line's context."""

    proxy: str
    kind: str  # "frontend", "backend", "listen", "defaults"
    file: str
    line: int
    acls: dict[str, Acl]
    refs: list[Ref]
    files: PatternFiles
    warn: Callable[[str], None]  # a warning text, without location
    load_errorfile: Callable[[str], Reply | None]
    bufsize: int = 16384
    maxrewrite: int = 1024
    captures: list[object] = field(default_factory=list)  # the proxy's capture slots
    conds: list[Condition] = field(default_factory=list)  # recompiled at the end
    warn_raw: Callable[[str], None] | None = None  # a warning without location (ACLs)

    @property
    def fe(self) -> bool:
        return self.kind in ("frontend", "listen", "defaults")

    @property
    def be(self) -> bool:
        return self.kind in ("backend", "listen", "defaults")

    @property
    def defaults(self) -> bool:
        return self.kind == "defaults"

    def cap(self, fe_where: int, be_where: int) -> int:
        """The places a rule of this proxy runs at (``cap`` of the parsers)."""
        return (fe_where if self.fe else 0) | (be_where if self.be else 0)

    def compiler(self, where: str = "in", response: bool = False) -> Compiler:
        return Compiler(
            file=self.file,
            line=self.line,
            proxy=self.proxy,
            defaults=self.defaults,
            response=response,
            where=where,
            refs=self.refs,
            files=self.files,
        )

    def condition(self, words: list[str], response: bool = False) -> Condition:
        """``build_acl_cond()``; raises AclError."""
        ctx = AclContext(self.compiler(response=response))
        try:
            cond = parse_condition(words, self.acls, ctx)
        finally:
            for text in ctx.warnings:
                (self.warn_raw or self.warn)(text)
        self.conds.append(cond)
        return cond

    def logformat(self, text: str, cap: int, where: str, response: bool = False) -> Piece:
        try:
            return compile_logformat(text, self.compiler(where, response), cap)
        except LogFormatError as err:
            raise RuleError(err.message) from None

    def expr(
        self, words: list[str], i: int, where: str, response: bool = False
    ) -> tuple[Expr, int]:
        """``sample_parse_expr(args, &i, ...)`` over words: a following word that is a
        converter continues the expression. Returns the expression and the next index."""
        c = self.compiler(where, response)
        text = words[i]
        try:
            expr = parse_expr(text, c)[0]
        except ExprError as err:
            raise RuleError(err.message) from None
        i += 1
        while i < len(words) and words[i] and words[i].split("(", 1)[0] in R.CONVS:
            text = f"{text},{words[i]}"
            try:
                expr = parse_expr(text, c)[0]
            except ExprError as err:
                raise RuleError(err.message) from None
            i += 1
        return expr, i


@dataclass
class Where:
    """Which rule set a line belongs to (``rule->from``): the places its
    expressions run at (``cap``), the wording of unresolved-name messages
    (``argc``) and the direction of its fetches."""

    which: str  # "request", "response", "after-response", "tcp-request content"...
    env: ParseEnv
    cap: int
    argc: str
    response: bool


__all__ = ["AclError", "ParseEnv", "RuleError", "Where"]
