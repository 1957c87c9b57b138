"""XLSForm expressions (``relevant``, ``constraint``, ``choice_filter``) read into our terms.

Only a small subset of XPath is understood, by a tokenizer and a recursive-descent parser,
never ``eval``: comparisons of ``${name}`` or ``.`` with a literal, ``selected(…, '…')``,
``regex(., '…')``, ``and``/``or``, ``not(…)`` and parentheses. Anything else raises
``Unsupported`` and the importer reports the cell.
"""

import re

#: Tokens: ${name}, quoted strings, numbers, operators, names (and, or, functions), . , ( )
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{[^}]{1,100}\})
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|>=|<=|=|>|<)
      | (?P<name>[A-Za-z_][A-Za-z0-9_:-]*)
      | (?P<punct>[(),.])
    )""",
    re.VERBOSE,
)
MAX_EXPRESSION = 1000
FLIP = {"=": "=", "!=": "!=", ">": "<", "<": ">", ">=": "<=", "<=": ">="}
NEGATE = {"=": "!=", "!=": "=", ">": "<=", "<": ">=", ">=": "<", "<=": ">"}


class Unsupported(ValueError):
    """An expression outside the subset we can express."""


def tokens(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_EXPRESSION:
        raise Unsupported(text)
    result, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise Unsupported(text)
        kind = match.lastgroup
        result.append((kind, match.group(kind)))
        position = match.end()
    return result


class _Parser:
    """expr := and ('or' and)* ; and := unary ('and' unary)* ;
    unary := 'not' '(' expr ')' | '(' expr ')' | call | operand op operand"""

    def __init__(self, text: str):
        self.items = tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise Unsupported(value or kind)
        self.at += 1
        return token[1]

    def parse(self) -> tuple:
        tree = self.expression()
        if self.peek() is not None:
            raise Unsupported("trailing")
        return tree

    def expression(self) -> tuple:
        items = [self.conjunction()]
        while self.peek() == ("name", "or"):
            self.at += 1
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else ("or", items)

    def conjunction(self) -> tuple:
        items = [self.unary()]
        while self.peek() == ("name", "and"):
            self.at += 1
            items.append(self.unary())
        return items[0] if len(items) == 1 else ("and", items)

    def unary(self) -> tuple:
        token = self.peek()
        if token == ("punct", "("):
            self.at += 1
            tree = self.expression()
            self.take("punct", ")")
            return tree
        if token and token[0] == "name" and token[1] in ("not", "selected", "regex"):
            self.at += 1
            self.take("punct", "(")
            if token[1] == "not":
                tree = ("not", self.expression())
            else:
                subject = self.operand()
                self.take("punct", ",")
                value = self.take("string")[1:-1]
                tree = (token[1], subject, value)
            self.take("punct", ")")
            return tree
        left = self.operand()
        op = self.take("op")
        right = self.operand()
        if left[0] == "literal" and right[0] != "literal":
            left, right, op = right, left, FLIP[op]
        if left[0] == "literal" or right[0] != "literal":
            raise Unsupported("comparison")
        return ("compare", left, op, right[1])

    def operand(self) -> tuple:
        token = self.peek()
        if token is None:
            raise Unsupported("end")
        self.at += 1
        kind, value = token
        if kind == "ref":
            return ("ref", value[2:-1].strip())
        if kind == "punct" and value == ".":
            return ("self",)
        if kind == "string":
            return ("literal", value[1:-1])
        if kind == "number":
            return ("literal", float(value) if "." in value else int(value))
        if kind == "name":
            # A bare name: a column of the choices sheet (choice_filter) or true()/false().
            return ("column", value)
        raise Unsupported(value)


def parse(text: str) -> tuple:
    """The expression's tree, or Unsupported."""
    return _Parser(text).parse()


def negated(tree: tuple) -> tuple:
    """``not(tree)`` pushed down to the leaves (De Morgan), or Unsupported."""
    kind = tree[0]
    if kind == "not":
        return tree[1]
    if kind in ("and", "or"):
        return ("or" if kind == "and" else "and", [negated(item) for item in tree[1]])
    if kind == "compare":
        return ("compare", tree[1], NEGATE[tree[2]], tree[3])
    if kind == "selected":
        return ("not_selected", tree[1], tree[2])
    raise Unsupported("not")


def to_condition(tree: tuple, lookup) -> dict:
    """A show_if condition from a parsed ``relevant``.

    ``lookup(name)`` gives (key, question dict, value map) of an earlier question, or raises
    Unsupported; the value map turns XLSForm choice names into our choice codes.
    """
    kind = tree[0]
    if kind == "not":
        return to_condition(negated(tree[1]), lookup)
    if kind in ("and", "or"):
        return {("all" if kind == "and" else "any"): [to_condition(t, lookup) for t in tree[1]]}
    if kind in ("selected", "not_selected"):
        if tree[1][0] != "ref":
            raise Unsupported("selected")
        key, question, values = lookup(tree[1][1])
        code = _value(question, values, tree[2])
        return {
            "question": key,
            "op": "equals" if kind == "selected" else "not_equals",
            "value": code,
        }
    if kind != "compare" or tree[1][0] != "ref":
        raise Unsupported(kind)
    key, question, values = lookup(tree[1][1])
    op, literal = tree[2], tree[3]
    if literal == "" and op in ("=", "!="):
        return {"question": key, "op": "not_answered" if op == "=" else "answered"}
    if op in ("=", "!="):
        value = _value(question, values, literal)
        return {"question": key, "op": "equals" if op == "=" else "not_equals", "value": value}
    if question["type"] not in ("number", "scale", "rating") or isinstance(literal, str):
        raise Unsupported("order")
    strict = {"question": key, "op": "gt" if ">" in op else "lt", "value": literal}
    if len(op) == 1:
        return strict
    whole = question.get("number", {}).get("integer", question["type"] != "number")
    if whole and isinstance(literal, int):
        # On whole numbers ">= n" is "> n - 1" (and "<= n" is "< n + 1").
        return {**strict, "value": literal - 1 if op == ">=" else literal + 1}
    return {"any": [strict, {"question": key, "op": "equals", "value": literal}]}


def _value(question: dict, values: dict, literal: object) -> object:
    """The answer value a literal stands for on ``question``."""
    kind = question["type"]
    if kind in ("single_choice", "dropdown", "multiple_choice"):
        text = literal if isinstance(literal, str) else str(literal)
        if text not in values:
            raise Unsupported("choice")
        return values[text]
    if kind == "yes_no":
        if str(literal) not in ("yes", "no"):
            raise Unsupported("yes_no")
        return literal == "yes"
    if kind in ("number", "scale", "rating"):
        if isinstance(literal, str):
            raise Unsupported("number")
        return literal
    if kind in ("short_text", "long_text", "date") and isinstance(literal, str):
        return literal
    raise Unsupported(kind)


def bounds(tree: tuple, integer: bool) -> dict:
    """Number settings {min, max} from a constraint on ``.``, or Unsupported."""
    items = tree[1] if tree[0] == "and" else [tree]
    result: dict = {}
    for item in items:
        if item[0] != "compare" or item[1] != ("self",) or isinstance(item[3], str):
            raise Unsupported("constraint")
        op, value = item[2], item[3]
        if op in (">", "<"):
            if not integer or not isinstance(value, int):
                raise Unsupported("strict")
            op, value = (">=", value + 1) if op == ">" else ("<=", value - 1)
        if op == ">=" and "min" not in result:
            result["min"] = value
        elif op == "<=" and "max" not in result:
            result["max"] = value
        else:
            raise Unsupported("constraint")
    return result


def pattern(tree: tuple) -> str:
    """A text pattern from ``regex(., '…')``, or Unsupported."""
    if tree[0] != "regex" or tree[1] != ("self",):
        raise Unsupported("constraint")
    return tree[2]


def parse_filter(text: str) -> tuple[str, str, object]:
    """Like ``choice_filter`` but reading the raw text, where ``${q}=cf`` compares two names."""
    items = tokens(text)
    if len(items) != 3 or items[1] != ("op", "="):
        raise Unsupported(text)
    (k1, v1), _op, (k2, v2) = items
    if k1 == "name" and k2 == "ref":
        k1, v1, k2, v2 = k2, v2, k1, v1
    if k1 == "ref" and k2 == "name":
        return v2, "ref", v1[2:-1].strip()
    if k1 == "name" and k2 in ("string", "number"):
        return v1, "literal", v2.strip("'\"")
    if k2 == "name" and k1 in ("string", "number"):
        return v2, "literal", v1.strip("'\"")
    raise Unsupported(text)
