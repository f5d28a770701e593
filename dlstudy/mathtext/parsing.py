"""Text to an expression tree (``expr``): Unicode normalised, tokenised, parsed by recursive descent,
and refused when too long, too deep or too large.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<"|"<="|">"|">="|"=="|"!=") sum)?
    sum     := term (("+"|"-") term)*
    term    := unary (("*"|"/"|"@"|"%") unary | <implicit *>)*
    unary   := ("-"|"+") unary | power
    power   := postfix (("^"|"**") unary)?          # right-associative
    postfix := atom ("[" index ("," index)* "]" | "'")*   # 1-based index, transpose
    index   := expr (":" expr)?                     # a:b is a range, both ends included
    atom    := NUMBER | NAME | NAME "(" args ")" | "(" expr ")" | "[" rows "]"
    rows    := args (";" args)*                     # [1, 2; 3, 4] is a matrix

Numbers evaluate as float64, so ``9^9^9^9`` overflows to infinity at once
instead of building a huge integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlstudy import limits
from dlstudy.mathtext.expr import Array, Binary, Call, ExprError, Group, Index, Name, Node, Num, Slice, Unary, children

MAX_LENGTH = limits.MAX_EXPRESSION_LENGTH
MAX_DEPTH = limits.MAX_NESTING

# ---------------------------------------------------------------------------
# Tokens

_UNICODE = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash, pasted from notes
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u2217": "*",
    "\u00f7": "/",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u221a": "sqrt",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u03c0": "pi",
}
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*)
  | (?P<op>\*\*|<=|>=|==|!=|[-+*/^@%()\[\],;:<>'])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    pos: int


def normalize(text: str) -> str:
    """Map the Unicode a student may paste (−, ×, ², √, π) to ASCII operators."""
    for uni, ascii_ in _UNICODE.items():
        if uni in text:
            text = text.replace(uni, ascii_)
    return text


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ExprError(f"unexpected character {text[pos]!r} at position {pos + 1} in {limits.quoted(text)}")
        kind = match.lastgroup
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, text: str, implicit_mul: bool) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.implicit_mul = implicit_mul

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        tok = self.tok
        return tok.kind in ("op", "name") and tok.text in texts

    def expect(self, text: str) -> None:
        if not self.at(text):
            self.fail(f"expected {text!r}")
        self.take()

    def fail(self, why: str) -> None:
        tok = self.tok
        where = "end of input" if tok.kind == "end" else f"{tok.text!r} at position {tok.pos + 1}"
        raise ExprError(f"cannot parse {limits.quoted(self.text)}: {why}, found {where}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")

    # grammar
    def parse(self) -> Node:
        node = self.or_()
        if self.tok.kind != "end":
            self.fail("unexpected text after the expression")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.at("or"):
            self.take()
            node = Binary("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at("and"):
            self.take()
            node = Binary("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.at("not"):
            self.take()
            self.enter()
            node = Unary("not", self.not_())
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        if self.at("<", "<=", ">", ">=", "==", "!="):
            op = self.take().text
            node = Binary(op, node, self.sum())
        return node

    def sum(self) -> Node:
        node = self.term()
        while self.at("+", "-"):
            op = self.take().text
            node = Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            if self.at("*", "/", "@", "%"):
                op = self.take().text
                node = Binary(op, node, self.unary())
            elif self.implicit_mul and self._starts_factor():
                node = Binary("*", node, self.unary())
            else:
                return node

    def _starts_factor(self) -> bool:
        tok = self.tok
        if tok.kind == "num" or (tok.kind == "name" and tok.text not in _KEYWORDS):
            return True
        return tok.kind == "op" and tok.text == "("

    def unary(self) -> Node:
        if self.at("-", "+"):
            op = self.take().text
            self.enter()
            node = Unary(op, self.unary())
            self.depth -= 1
            return node
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.at("^", "**"):
            self.take()
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            return Binary("^", base, exponent)
        return base

    def postfix(self) -> Node:
        node = self.atom()
        while True:
            if self.at("["):
                self.take()
                node = Index(node, self.indices())
                self.expect("]")
            elif self.at("'"):
                self.take()
                node = Unary("'", node)
            else:
                return node

    def indices(self) -> tuple[Node, ...]:
        """Index items: positions, or ranges ``a:b`` (both ends included)."""
        items: list[Node] = []
        while True:
            item = self.or_()
            if self.at(":"):
                self.take()
                item = Slice(item, self.or_())
            items.append(item)
            if not self.at(","):
                return tuple(items)
            self.take()

    def args(self, closer: str) -> tuple[Node, ...]:
        items: list[Node] = []
        if self.at(closer):
            return ()
        items.append(self.or_())
        while self.at(","):
            self.take()
            items.append(self.or_())
        return tuple(items)

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "num":
            self.take()
            return Num(float(tok.text), tok.text)
        if tok.kind == "name" and tok.text not in _KEYWORDS:
            self.take()
            if self.at("("):
                self.take()
                self.enter()
                args = self.args(")")
                self.expect(")")
                self.depth -= 1
                return Call(tok.text, args)
            return Name(tok.text)
        if self.at("("):
            self.take()
            self.enter()
            inner = self.or_()
            self.expect(")")
            self.depth -= 1
            return Group(inner)
        if self.at("["):
            self.take()
            self.enter()
            rows = [self.args("]")]
            while self.at(";"):
                self.take()
                rows.append(self.args("]"))
            self.expect("]")
            self.depth -= 1
            if len(rows) == 1:
                return Array(rows[0])
            return Array(tuple(Array(r) for r in rows))
        self.fail("expected a number, a name, '(' or '['")
        raise AssertionError  # unreachable: fail() raises


def parse(text: str, *, implicit_mul: bool = False, max_length: int = MAX_LENGTH) -> Node:
    """Parse ``text`` into an AST.  Raises ExprError for anything else."""
    if not isinstance(text, str):
        raise ExprError(f"expected text, got {type(text).__name__}")
    if len(text) > max_length:
        raise ExprError(f"expression is too long ({len(text)} characters; the limit is {max_length})")
    text = normalize(text).strip()
    if not text:
        raise ExprError("empty expression")
    node = _Parser(text, implicit_mul).parse()
    _check_size(node)
    return node


def _check_size(node: Node) -> None:
    """Refuse trees too deep or too large to evaluate and print (both walk the tree recursively)."""
    stack = [(node, 1)]
    count = 0
    while stack:
        n, depth = stack.pop()
        count += 1
        if depth > limits.MAX_TREE_DEPTH:
            raise ExprError(f"expression is nested too deeply (more than {limits.MAX_TREE_DEPTH} levels of operations)")
        if count > limits.MAX_TREE_NODES:
            raise ExprError(f"expression is too large (more than {limits.MAX_TREE_NODES} terms)")
        stack.extend((child, depth + 1) for child in children(n))
