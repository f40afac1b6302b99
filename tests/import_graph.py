"""The import graph of plugins/ (issue 20): files, lines, layers, the largest file and each module's closure.

    python3 tests/import_graph.py [ROOT]      # ROOT: a checkout or `git archive` of one (default: this one)

Layer 0 imports no project file; a file's layer is one more than the highest layer it imports. Imports
inside functions count. Prints a table; exit 1 on an import cycle.
"""
import ast
import os
import sys


def plugin_files(root):
    files = {}
    for kind in ("module_utils", "modules", "callback", "action", "filter"):
        folder = os.path.join(root, "plugins", kind)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py") and name != "__init__.py":
                label = name[:-3] if kind == "module_utils" else "%s/%s" % (kind, name[:-3])
                files[label] = os.path.join(folder, name)
    return files


def read_graph(root):
    """{file label: the module_utils it imports} for every plugin file of the checkout at ``root``."""
    return {name: imports_of(path) for name, path in plugin_files(root).items()}


def imports_of(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and "plugins.module_utils" in node.module:
            if node.module.endswith("plugins.module_utils"):
                found.update(alias.name for alias in node.names)
            else:
                found.add(node.module.rsplit(".", 1)[1])
    return found


def layers(graph):
    layer = {}

    def visit(name, stack):
        if name in layer:
            return layer[name]
        if name in stack:
            raise ValueError("import cycle: " + " -> ".join(stack + [name]))
        deps = [dep for dep in graph[name] if dep in graph]
        layer[name] = 1 + max((visit(dep, stack + [name]) for dep in deps), default=-1)
        return layer[name]

    for name in graph:
        visit(name, [])
    return layer


def closure(graph, start):
    seen, todo = set(), [start]
    while todo:
        for name in graph.get(todo.pop(), ()):
            if name in graph and name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    files = plugin_files(root)
    graph = read_graph(root)
    lines = {}
    for name, path in files.items():
        with open(path) as handle:
            lines[name] = len(handle.readlines())
    try:
        layer = layers(graph)
    except ValueError as error:
        print(error)
        return 1
    utils = [name for name in files if "/" not in name]
    edges = sum(len([dep for dep in deps if dep in graph]) for deps in graph.values())
    print("files %d (module_utils %d, %d lines; other plugins %d), edges %d, layers %d, cycles 0" % (
        len(files), len(utils), sum(lines[name] for name in utils), len(files) - len(utils), edges,
        max(layer.values()) + 1))
    largest = max(utils, key=lambda name: lines[name])
    print("largest module_utils file: %s (%d lines); over 400 lines: %s" % (
        largest, lines[largest], ", ".join("%s %d" % (n, lines[n]) for n in sorted(utils, key=lambda n: -lines[n])
                                           if lines[n] > 400) or "none"))
    for number in range(max(layer.values()) + 1):
        names = sorted(name for name in files if layer[name] == number)
        print("layer %d: %s" % (number, ", ".join("%s (%d)" % (name, lines[name]) for name in names)))
    for name in sorted(files):
        if "/" in name:
            reach = closure(graph, name)
            total = lines[name] + sum(lines[dep] for dep in reach)
            print("closure %s: %d files, %d lines" % (name, len(reach) + 1, total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
