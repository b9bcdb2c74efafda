"""tapegrad.viz.make_dot: the DOT text of small graphs against expected files, SVG with and without
Graphviz, saving by suffix, and the training command's --draw-graph."""
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad import viz

EXPECTED = Path(__file__).parent / "data" / "viz"
SVG = "{http://www.w3.org/2000/svg}"


def scalar_expression():
    """PyTorchZeroToAll's loss = (x * w - y) ** 2."""
    x = tg.tensor(1.0)
    w = tg.tensor(1.0, requires_grad=True)
    loss = (x * w - 2.0) ** 2
    return viz.make_dot(loss, params={"w": w})


def mlp():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loss = F.cross_entropy(model(tg.randn(5, 4)), tg.tensor([0, 1, 1, 0, 1]))
    return viz.make_dot(loss, params=dict(model.named_parameters()))


def shared_weight():
    w = tg.ones(3, 3, requires_grad=True)
    x = tg.ones(2, 3)
    out = (x @ w @ w).sum()
    return viz.make_dot(out, params={"w": w})


class Square(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


def python_function():
    a = tg.ones(2, requires_grad=True)
    return viz.make_dot(Square.apply(a.exp()).sum(), params={"a": a})


GRAPHS = {"scalar_expression": scalar_expression, "mlp": mlp, "shared_weight": shared_weight,
          "python_function": python_function}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_dot_text_matches_the_expected_file(name):
    source = GRAPHS[name]().source
    expected = (EXPECTED / f"{name}.dot").read_text()
    assert source == expected, f"DOT of {name} changed; if on purpose, regenerate tests/data/viz/{name}.dot"


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_dot_text_is_stable(name):
    assert GRAPHS[name]().source == GRAPHS[name]().source


def test_graph_names_ops_and_leaves_and_groups_modules():
    source = mlp().source
    for text in ("AddmmBackward0", "ReluBackward0", "NllLossBackward0", "LogSoftmaxBackward0", "0.weight", "0.bias", "2.weight",
                 'subgraph "cluster_0"', 'subgraph "cluster_2"', "(5, 3)"):
        assert text in source, text
    # A shared weight is one tensor node with an edge into each product.
    graph = shared_weight()
    weights = [node for node in graph.nodes if node.label[0] == "w"]
    assert len(weights) == 1
    assert sum(1 for source, _, _ in graph.edges if source == weights[0].id) == 2


def test_edges_point_in_the_direction_of_the_computation():
    graph = scalar_expression()
    by_id = {node.id: node for node in graph.nodes}
    output = next(node for node in graph.nodes if node.kind == "output")
    assert [by_id[source].label[0] for source, target, _ in graph.edges if target == output.id] == ["PowBackward0"]
    leaf = next(node for node in graph.nodes if node.label[0] == "w")
    assert all(source != output.id for source, _, _ in graph.edges)
    assert any(source == leaf.id for source, _, _ in graph.edges)


def test_show_saved_adds_the_saved_tensors():
    x = tg.ones(2, 3, requires_grad=True)
    graph = viz.make_dot((x * x.exp()).sum(), params={"x": x}, show_saved=True)
    saved = [node for node in graph.nodes if node.kind == "saved"]
    assert len(saved) >= 2  # mul saves both operands, exp its result
    assert all("(2, 3)" in node.label[1] for node in saved)
    assert "style=dashed" in graph.source
    assert viz.make_dot((x * x.exp()).sum()).source.count("orange") == 0


def test_max_depth_stops_the_walk():
    x = tg.ones(2, requires_grad=True)
    y = x
    for _ in range(10):
        y = y * 2
    full, cut = viz.make_dot(y.sum()), viz.make_dot(y.sum(), max_depth=3)
    assert len(cut.nodes) < len(full.nodes)
    assert sum(1 for node in cut.nodes if node.kind == "op") == 4  # the root and three below it


def test_several_outputs_and_a_leaf_output():
    a = tg.ones(2, requires_grad=True)
    graph = viz.make_dot([a.exp().sum(), a.sin().sum(), a])
    assert sum(1 for node in graph.nodes if node.kind == "output") == 2
    assert len([node for node in graph.nodes if node.kind in ("tensor", "output") and node.label[-1] == "(2) float32"]) == 1


def parse_svg(text):
    root = ElementTree.fromstring(text)
    return root, " ".join(element.text or "" for element in root.iter(f"{SVG}text")) + " " + \
        " ".join(element.text or "" for element in root.iter(f"{SVG}title"))


def test_svg_without_graphviz_is_our_layout_and_names_every_node(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    graph = mlp()
    root, text = parse_svg(graph.svg())
    assert root.tag == f"{SVG}svg"
    for node in graph.nodes:
        for line in node.label:
            assert line in text, line
    assert len(list(root.iter(f"{SVG}polyline"))) == len(graph.edges)
    assert graph._repr_svg_() == graph.svg()


def test_our_layout_puts_inputs_above_outputs(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    root, _ = parse_svg(scalar_expression().svg())
    heights = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        rect = group.find(f"{SVG}rect")
        if title is not None and rect is not None:
            heights[title.text] = float(rect.get("y"))
    assert heights["w"] < heights["MulBackward0"] < heights["SubBackward0"] < heights["PowBackward0"]


def test_save_by_suffix(tmp_path, monkeypatch):
    graph = scalar_expression()
    assert (tmp_path / "g.dot").exists() is False
    graph.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == graph.source
    monkeypatch.setattr(shutil, "which", lambda name: None)
    graph.save(tmp_path / "g.svg")
    parse_svg((tmp_path / "g.svg").read_text())
    with pytest.raises(RuntimeError, match=r"\[make_dot\].*dot"):
        graph.save(tmp_path / "g.png")
    with pytest.raises(ValueError, match=r"\[make_dot\].*format"):
        graph.save(tmp_path / "g.txt")


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")
def test_svg_and_png_through_graphviz(tmp_path):
    graph = mlp()
    root, text = parse_svg(graph.svg())
    assert "AddmmBackward0" in text
    graph.save(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_command_draws_the_first_step(tmp_path):
    from tapegrad import train
    path = tmp_path / "step.dot"
    train.draw_first_step(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), tg.randn(3, 2, 2), tg.tensor([0, 1, 0]),
                          str(path))
    source = path.read_text()
    assert "AddmmBackward0" in source and "1.weight" in source


if __name__ == "__main__":  # regenerate the expected files after an intended change
    EXPECTED.mkdir(parents=True, exist_ok=True)
    for graph_name, make in GRAPHS.items():
        (EXPECTED / f"{graph_name}.dot").write_text(make().source)
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", __file__]))
