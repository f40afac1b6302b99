"""A two-panel SVG, written with the stdlib: connections over time above, memory over time below."""

from typing import List, Optional, Sequence, Tuple

WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, GAP = 760, 220, 80, 20, 40, 70
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")

Series = Tuple[str, Sequence[Tuple[float, float]]]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** len(str(int(value))) / 10.0
    for mult in (1, 2, 2.5, 5, 10):
        if step * mult >= value:
            return step * mult
    return value


def _panel(top: float, title: str, unit: str, series: List[Series], t_max: float,
           markers: Sequence[Tuple[float, str]], hlines: Sequence[Tuple[float, str]]) -> List[str]:
    inner_w = WIDTH - LEFT - RIGHT
    y_max = _nice_max(max([y for _name, points in series for _t, y in points] + [y for y, _label in hlines] + [0]))
    out = ['<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>' % (LEFT, top - 10, title)]

    def px(t: float, y: float) -> Tuple[float, float]:
        return LEFT + inner_w * t / t_max, top + PANEL_HEIGHT - PANEL_HEIGHT * y / y_max

    for i in range(6):
        y = y_max * i / 5
        _x, py = px(0, y)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (LEFT, py, WIDTH - RIGHT, py))
        label = ("%.0f" % y) if y_max >= 100 else ("%.1f" % y)
        out.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (LEFT - 6, py + 4, label))
    step = _nice_max(t_max / 10.0)
    for i in range(int(t_max // step) + 1):
        t = step * i
        tx, _y = px(t, 0)
        out.append('<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%.0f</text>'
                   % (tx, top + PANEL_HEIGHT + 15, t))
    out.append('<text x="%d" y="%d" font-size="11" text-anchor="middle">seconds</text>'
               % (LEFT + inner_w // 2, top + PANEL_HEIGHT + 30))
    out.append('<text x="14" y="%d" font-size="11" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>'
               % (top + PANEL_HEIGHT // 2, top + PANEL_HEIGHT // 2, unit))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>'
               % (LEFT, top, inner_w, PANEL_HEIGHT))
    for index, (t, label) in enumerate(markers):
        tx, _y = px(t, 0)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888" stroke-dasharray="4 3"/>'
                   % (tx, top, tx, top + PANEL_HEIGHT))
        out.append('<text x="%.1f" y="%d" font-size="10" fill="#555" text-anchor="end">%s</text>'
                   % (tx - 3, top + PANEL_HEIGHT - 8 - 13 * index, label))
    for y, label in hlines:
        _x, py = px(0, y)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000" stroke-dasharray="6 4"/>'
                   % (LEFT, py, WIDTH - RIGHT, py))
        out.append('<text x="%d" y="%.1f" font-size="10">%s</text>' % (LEFT + 6, py - 4, label))
    for index, (name, points) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join("%.1f,%.1f" % px(t, y) for t, y in points)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colour, path))
        out.append('<rect x="%d" y="%d" width="14" height="3" fill="%s"/>' % (LEFT + 250 + 150 * index, top - 17, colour))
        out.append('<text x="%d" y="%d" font-size="11" fill="%s">%s</text>'
                   % (LEFT + 268 + 150 * index, top - 12, colour, name))
    return out


def render(path: str, title: str, connections: List[Series], memory: List[Series],
           markers: Optional[Sequence[Tuple[float, str]]] = None,
           memory_lines: Optional[Sequence[Tuple[float, str]]] = None) -> None:
    """Write the SVG; ``connections`` and ``memory`` are lists of (label, [(t, y), ...]);
    ``markers`` are (t, label) vertical lines, ``memory_lines`` (y, label) horizontal ones."""
    t_max = max([t for _name, points in connections + memory for t, _y in points] + [1])
    height = TOP + 2 * PANEL_HEIGHT + GAP + 50
    body = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">'
            % (WIDTH, height), '<rect width="100%" height="100%" fill="white"/>',
            '<text x="%d" y="20" font-size="15">%s</text>' % (LEFT, title)]
    body += _panel(TOP + 20, "Established connections", "connections", connections, t_max, markers or [], [])
    body += _panel(TOP + 20 + PANEL_HEIGHT + GAP, "Memory (/proc/meminfo)", "GB", memory, t_max, markers or [],
                   memory_lines or [])
    body.append("</svg>")
    with open(path, "w") as handle:
        handle.write("\n".join(body) + "\n")
