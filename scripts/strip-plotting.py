#!/usr/bin/env python3
"""Removes the plotting from a Python script, as a user porting a KeOps gallery example to ks would.

Drops every statement that uses matplotlib (imports of it, and statements that mention `plt` or a
figure/axes object made from it), and loops or blocks left empty by that. Everything else is kept
as written (re-printed by Python's ast module).

    scripts/strip-plotting.py example.py > example.ks
"""
import ast
import sys


class StripPlotting(ast.NodeTransformer):
    def __init__(self):
        self.plot_names = {"plt", "matplotlib"}

    def mentions_plotting(self, node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.plot_names:
                return True
        return False

    def visit_Import(self, node):
        names = [a for a in node.names if not a.name.startswith(("matplotlib", "mpl_toolkits"))]
        for a in node.names:
            if a.name.startswith(("matplotlib", "mpl_toolkits")):
                self.plot_names.add(a.asname or a.name.split(".")[0])
        if not names:
            return None
        node.names = names
        return node

    def visit_ImportFrom(self, node):
        if node.module and node.module.startswith(("matplotlib", "mpl_toolkits")):
            for a in node.names:
                self.plot_names.add(a.asname or a.name)
            return None
        return node

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and not block and field == "body" and not isinstance(node, ast.Module):
                return None
        return node

    def visit_stmt(self, node):
        if isinstance(node, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.With)) and self.mentions_plotting(node):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    for sub in ast.walk(t):
                        if isinstance(sub, ast.Name):
                            self.plot_names.add(sub.id)
            return None
        return self.generic_visit(node)


for name in ("Expr", "Assign", "AugAssign", "AnnAssign", "With", "For", "While", "If", "FunctionDef", "Try"):
    setattr(StripPlotting, "visit_" + name, StripPlotting.visit_stmt)

tree = StripPlotting().visit(ast.parse(open(sys.argv[1]).read()))
ast.fix_missing_locations(tree)
print(ast.unparse(tree))
