"""Drawing the recorded graph, as torchviz draws PyTorch's: ``make_dot(output)`` walks ``grad_fn``
from the output back to the leaves and returns a :class:`Graph` holding the picture of the
lecture: op nodes (the backward nodes, ``MulBackward0``, with the shapes of what they produced) and
tensor nodes (leaves named from ``params``, outputs highlighted), edges in the direction of the
computation.

``Graph.source`` is Graphviz DOT text, the same text for the same graph. ``Graph.save(path)`` picks
the format from the suffix; ``.svg`` needs no Graphviz: without the ``dot`` program on the PATH a
small layered layout of our own writes the SVG (longest-path layers, barycentre sweeps against
crossings), which is also what a notebook shows through ``_repr_svg_``.
"""
import os
import shutil
import subprocess
from collections import defaultdict, deque
from html import escape

from ._atomic import atomic_write

__all__ = ["Graph", "make_dot"]

# Colours of torchviz, which course material shows: leaves light blue, outputs green, saved orange.
_FILL = {"op": "lightgrey", "param": "lightblue", "tensor": "lightblue", "output": "darkolivegreen1",
         "saved": "orange"}
_SVG_FILL = {"lightgrey": "#d3d3d3", "lightblue": "#add8e6", "darkolivegreen1": "#caff70", "orange": "#ffa500"}


def _shape_text(shape):
    return "(" + ", ".join(str(size) for size in shape) + ")"


def _tensor_label(name, tensor):
    dtype = str(tensor.dtype).replace("tapegrad.", "")
    lines = [name] if name else []
    return lines + [f"{_shape_text(tensor.shape)} {dtype}"]


class _Node:
    __slots__ = ("id", "kind", "label", "cluster")

    def __init__(self, node_id, kind, label, cluster=None):
        self.id, self.kind, self.label, self.cluster = node_id, kind, label, cluster


class Graph:
    """A drawn graph: ``source`` (DOT), ``save(path)``, ``svg()`` and ``_repr_svg_()`` for Jupyter."""

    def __init__(self, nodes, edges):
        self.nodes = nodes  # list of _Node, in the order the walk met them
        self.edges = edges  # (from id, to id, style) in the direction of the computation

    @property
    def source(self):
        """The graph as Graphviz DOT text; stable: the same graph always gives the same text."""
        lines = ["digraph {", '\tgraph [rankdir=TB, fontname="Helvetica"]',
                 '\tnode [shape=box, style="filled,rounded", fontname="Helvetica", fontsize=11, height=0.2]',
                 '\tedge [fontname="Helvetica"]']
        clusters = defaultdict(list)
        for node in self.nodes:
            clusters[node.cluster].append(node)
        for cluster, members in clusters.items():
            indent = "\t"
            if cluster is not None:
                lines.append(f'\tsubgraph "cluster_{cluster}" {{')
                lines.append(f'\t\tlabel="{cluster}"; style="dashed,rounded"; color=grey40')
                indent = "\t\t"
            for node in members:
                label = "\\n".join(_dot_escape(line) for line in node.label)
                shape = ", shape=ellipse" if node.kind == "op" else ""
                lines.append(f'{indent}{node.id} [label="{label}", fillcolor={_FILL[node.kind]}{shape}]')
            if cluster is not None:
                lines.append("\t}")
        for source, target, style in self.edges:
            attributes = " [style=dashed, arrowhead=none]" if style == "saved" else ""
            lines.append(f"\t{source} -> {target}{attributes}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def svg(self):
        """The picture as SVG text: Graphviz's ``dot`` when it is on the PATH, else our own layout."""
        dot = shutil.which("dot")
        if dot:
            return subprocess.run([dot, "-Tsvg"], input=self.source.encode(), capture_output=True,
                                  check=True).stdout.decode()
        return _layered_svg(self)

    def _repr_svg_(self):
        return self.svg()

    def save(self, path):
        """Writes the graph to ``path``: ``.dot``/``.gv`` as DOT text, ``.svg`` (works without
        Graphviz), ``.png``/``.pdf`` through the Graphviz ``dot`` program. Returns ``path``."""
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower()
        if suffix in (".dot", ".gv"):
            data = self.source.encode()
        elif suffix == ".svg":
            data = self.svg().encode()
        elif suffix in (".png", ".pdf"):
            dot = shutil.which("dot")
            if dot is None:
                raise RuntimeError(f"[make_dot] saving {suffix} needs the Graphviz 'dot' program on the PATH "
                                   "(Debian: apt-get install graphviz); .svg and .dot work without it")
            data = subprocess.run([dot, f"-T{suffix[1:]}"], input=self.source.encode(), capture_output=True,
                                  check=True).stdout
        else:
            raise ValueError(f"[make_dot] cannot tell the format of {path!r}: use .dot, .gv, .svg, .png or .pdf")
        with atomic_write(path) as file:
            file.write(data)
        return path


def _dot_escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def make_dot(output, params=None, show_saved=False, max_depth=None):
    """The graph recorded for ``output`` (a tensor or a sequence of tensors), as torchviz's make_dot.

    ``params`` maps names to tensors (``dict(model.named_parameters())``) to name the leaves; names
    with a module prefix (``0.weight``) group their leaves into a cluster per module (``0``).
    ``show_saved`` adds the tensors each node saved for backward; ``max_depth`` stops the walk that
    many op nodes away from the outputs. Unlike torchviz, returns a :class:`Graph`, not a
    ``graphviz.Digraph`` (no Python graphviz package is needed)."""
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    names = {}
    for name, tensor in (dict(params) if params is not None else {}).items():
        names.setdefault(id(tensor), name)
    builder = _Builder(names, show_saved, max_depth)
    for tensor in outputs:
        builder.add_output(tensor)
    return Graph(builder.nodes, builder.edges)


class _Builder:
    def __init__(self, names, show_saved, max_depth):
        self.names, self.show_saved, self.max_depth = names, show_saved, max_depth
        self.nodes, self.edges = [], []
        self.ids = {}  # id() of a backward node or tensor -> graph id
        self.keep = []  # holds what ids refers to, so no id() is reused during the walk

    def _new(self, key, obj, kind, label, cluster=None):
        node = _Node(f"n{len(self.nodes)}", kind, label, cluster)
        self.nodes.append(node)
        self.ids[key] = node.id
        self.keep.append(obj)
        return node.id

    def _tensor_node(self, tensor, kind):
        key = ("tensor", id(tensor))
        if key in self.ids:
            return self.ids[key]
        name = self.names.get(id(tensor))
        cluster = name.rsplit(".", 1)[0] if name and "." in name else None
        return self._new(key, tensor, "param" if name else kind, _tensor_label(name, tensor), cluster)

    def add_output(self, tensor):
        grad_fn = tensor.grad_fn
        if grad_fn is None:  # a leaf as the output: just the tensor
            self._tensor_node(tensor, "output")
            return
        output_id = self._new(("output", id(tensor)), tensor, "output", _tensor_label(None, tensor))
        self.edges.append((self._walk(grad_fn), output_id, "data"))

    def _walk(self, root):
        """Adds every backward node below ``root`` (breadth first, no recursion); returns root's id."""
        root_id = self._function_node(root)
        queue = deque([(root, 0)])
        expanded = {id(root)}
        while queue:
            function, depth = queue.popleft()
            if self.max_depth is not None and depth >= self.max_depth:
                continue
            target = self.ids[("fn", id(function))]
            if self.show_saved:
                for saved in _saved_tensors(function):
                    key = ("saved", id(function), id(saved))
                    saved_id = self._new(key, saved, "saved", _tensor_label("saved", saved))
                    self.edges.append((saved_id, target, "saved"))
            for child, _ in function.next_functions:
                if child is None:
                    continue
                child_id = self._function_node(child)
                self.edges.append((child_id, target, "data"))
                if id(child) not in expanded:
                    expanded.add(id(child))
                    queue.append((child, depth + 1))
        return root_id

    def _function_node(self, function):
        key = ("fn", id(function))
        if key in self.ids:
            return self.ids[key]
        variable = getattr(function, "variable", None)
        if variable is not None:  # a leaf's AccumulateGrad is drawn as the leaf itself
            graph_id = self._tensor_node(variable, "tensor")
            self.ids[key] = graph_id
            self.keep.append(function)
            return graph_id
        label = [function.name()] + [_shape_text(shape) for shape in _output_shapes(function)]
        return self._new(key, function, "op", label)


def _saved_tensors(function):
    return [tensor for tensor in getattr(function, "_saved_tensors", ()) if tensor is not None]


def _output_shapes(function):
    return getattr(function, "_output_shapes", ())


# ---- our own layout, for SVG without Graphviz ------------------------------------------------------

_FONT_SIZE, _CHAR_WIDTH, _LINE_HEIGHT = 11, 6.6, 14
_LAYER_GAP, _NODE_GAP, _MARGIN, _PAD = 46, 22, 20, 8
_SWEEPS = 4


def _layered_svg(graph):
    """A layered drawing (Sugiyama's scheme, kept small): each node on the layer of its longest path
    from a source, long edges broken by dummy points, orders improved by barycentre sweeps."""
    ids = [node.id for node in graph.nodes]
    by_id = {node.id: node for node in graph.nodes}
    successors, predecessors = defaultdict(list), defaultdict(list)
    for source, target, _ in graph.edges:
        successors[source].append(target)
        predecessors[target].append(source)

    # Longest-path layering, sources on top; the graph is acyclic (a tape).
    layer = {}
    indegree = {node_id: len(predecessors[node_id]) for node_id in ids}
    ready = deque(node_id for node_id in ids if indegree[node_id] == 0)
    for node_id in ready:
        layer[node_id] = 0
    while ready:
        node_id = ready.popleft()
        for successor in successors[node_id]:
            layer[successor] = max(layer.get(successor, 0), layer[node_id] + 1)
            indegree[successor] -= 1
            if indegree[successor] == 0:
                ready.append(successor)

    # Dummy points split every edge into one-layer steps.
    chains, step_successors, step_predecessors = [], defaultdict(list), defaultdict(list)
    for index, (source, target, style) in enumerate(graph.edges):
        chain = [source]
        for level in range(layer[source] + 1, layer[target]):
            dummy = f"d{index}_{level}"
            layer[dummy] = level
            chain.append(dummy)
        chain.append(target)
        for upper, lower in zip(chain, chain[1:]):
            step_successors[upper].append(lower)
            step_predecessors[lower].append(upper)
        chains.append((chain, style))

    layers = defaultdict(list)
    for node_id in ids:
        layers[layer[node_id]].append(node_id)
    for chain, _ in chains:
        for dummy in chain[1:-1]:
            layers[layer[dummy]].append(dummy)
    depth = max(layers) + 1 if layers else 0

    def reorder(level, reference, neighbours):
        """Orders a layer by the mean position of each node's neighbours on the reference layer."""
        position = {node_id: index for index, node_id in enumerate(layers[reference])}

        def barycentre(item):
            index, node_id = item
            linked = [position[other] for other in neighbours[node_id] if other in position]
            return (sum(linked) / len(linked)) if linked else index
        layers[level] = [node_id for _, node_id in sorted(enumerate(layers[level]), key=barycentre)]

    for _ in range(_SWEEPS):
        for level in range(1, depth):
            reorder(level, level - 1, step_predecessors)
        for level in range(depth - 2, -1, -1):
            reorder(level, level + 1, step_successors)

    # Sizes and positions: each layer centred, nodes as wide as their longest line.
    def size(node_id):
        if node_id not in by_id:
            return 0.0, 0.0
        label = by_id[node_id].label
        return max(len(line) for line in label) * _CHAR_WIDTH + 2 * _PAD, len(label) * _LINE_HEIGHT + _PAD
    widths = {level: sum(size(n)[0] for n in members) + _NODE_GAP * (len(members) - 1)
              for level, members in layers.items()}
    heights = {level: max([size(n)[1] for n in members] + [_LINE_HEIGHT]) for level, members in layers.items()}
    canvas_width = max(widths.values(), default=0) + 2 * _MARGIN
    centre, y = {}, _MARGIN
    for level in range(depth):
        x = (canvas_width - widths[level]) / 2
        for node_id in layers[level]:
            width, _ = size(node_id)
            centre[node_id] = (x + width / 2, y + heights[level] / 2)
            x += width + _NODE_GAP
        y += heights[level] + _LAYER_GAP
    canvas_height = y - _LAYER_GAP + _MARGIN

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas_width:.0f}" height="{canvas_height:.0f}" '
             f'viewBox="0 0 {canvas_width:.0f} {canvas_height:.0f}" font-family="Helvetica, Arial, sans-serif" '
             f'font-size="{_FONT_SIZE}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>']
    # Clusters: a dashed box around each module's leaves.
    clusters = defaultdict(list)
    for node in graph.nodes:
        if node.cluster is not None:
            clusters[node.cluster].append(node.id)
    for cluster, members in clusters.items():
        left = min(centre[m][0] - size(m)[0] / 2 for m in members) - 6
        right = max(centre[m][0] + size(m)[0] / 2 for m in members) + 6
        upper = min(centre[m][1] - size(m)[1] / 2 for m in members) - 18
        lower = max(centre[m][1] + size(m)[1] / 2 for m in members) + 6
        parts.append(f'<g class="cluster"><title>{escape(cluster)}</title><rect x="{left:.1f}" y="{upper:.1f}" '
                     f'width="{right - left:.1f}" height="{lower - upper:.1f}" rx="6" fill="none" stroke="#666" '
                     f'stroke-dasharray="4,3"/><text x="{left + 4:.1f}" y="{upper + 12:.1f}" fill="#444">'
                     f'{escape(cluster)}</text></g>')
    for chain, style in chains:
        points = [centre[point] for point in chain]
        start_x, start_y = points[0]
        end_x, end_y = points[-1]
        points[0] = (start_x, start_y + size(chain[0])[1] / 2)
        points[-1] = (end_x, end_y - size(chain[-1])[1] / 2)
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash = ' stroke-dasharray="4,3"' if style == "saved" else ' marker-end="url(#arrow)"'
        parts.append(f'<polyline class="edge" points="{path}" fill="none" stroke="#333"{dash}/>')
    for node in graph.nodes:
        x, y = centre[node.id]
        width, height = size(node.id)
        radius = height / 2 if node.kind == "op" else 4
        parts.append(f'<g class="node" id="{node.id}"><title>{escape(node.label[0])}</title>'
                     f'<rect x="{x - width / 2:.1f}" y="{y - height / 2:.1f}" width="{width:.1f}" '
                     f'height="{height:.1f}" rx="{radius:.1f}" fill="{_SVG_FILL[_FILL[node.kind]]}" stroke="#333"/>')
        first = y - (len(node.label) - 1) * _LINE_HEIGHT / 2 + _FONT_SIZE / 3
        for index, line in enumerate(node.label):
            parts.append(f'<text x="{x:.1f}" y="{first + index * _LINE_HEIGHT:.1f}" text-anchor="middle">'
                         f'{escape(line)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
