"""Code lines of a class or module, docstrings, comments and blank lines aside.

    python benchmarks/code_lines.py skebm/_base.py BaseRBM
"""

import ast
import io
import sys
import tokenize


def code_lines(path, class_name=None):
    source = open(path).read()
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    span = (1, len(source.splitlines()))
    if class_name:
        node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
        span = (node.lineno, node.end_lineno)
    lines = source.splitlines()
    comments = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and lines[token.start[0] - 1].strip().startswith("#")
    }
    return sum(
        1
        for number, line in enumerate(lines, 1)
        if span[0] <= number <= span[1] and line.strip()
        and number not in docstrings and number not in comments
    )


if __name__ == "__main__":
    path, *name = sys.argv[1:]
    print(f"{path} {name[0] if name else ''}: {code_lines(path, *name)} code lines")
