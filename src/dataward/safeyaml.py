"""YAML for config files: PyYAML's safe loader, bounded.

``yaml.safe_load`` builds no objects, but it does expand aliases: nine anchors of nine
aliases each ("billion laughs") are a few hundred bytes that stand for a billion nodes,
and everything that walks the result afterwards (path resolution, validation) takes
memory and time for each of them. A mapping that names a key twice silently keeps the
last value, so a second ``write_only: false`` further down a long config would win
unnoticed. ``load`` refuses both: a document whose aliases expand it past
``MAX_NODES`` nodes, and a key given twice in one mapping.
"""
from __future__ import annotations

from typing import Any

import yaml

# A MAT's config with a few hundred sources is some thousands of nodes.
MAX_NODES = 100_000


class YamlRefused(yaml.YAMLError):
    """The document is well-formed YAML that dataward will not load (reason in args)."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _BoundedLoader(yaml.SafeLoader):
    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        _check_size(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    dup = key in seen
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if dup:
                    raise YamlRefused(f"the key {str(key)[:60]!r} is given twice in one mapping",
                                      key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_size(root: yaml.Node | None) -> None:
    """Count the nodes the document stands for once its aliases are expanded (an alias
    is the same node object as its anchor, so shared subtrees are counted per use)."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    # Iterative post-order walk; a node reached twice is counted from ``sizes``.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if not expanded:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 0) for c in children)
        sizes[id(node)] = total
        if total > MAX_NODES:
            raise YamlRefused(f"aliases expand the document past {MAX_NODES:,} values "
                              "(an alias bomb?)", node.start_mark)


def load(text: str) -> Any:
    """Parse one YAML document with the safe loader, refusing alias bombs and duplicate
    keys (``YamlRefused``, a ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
