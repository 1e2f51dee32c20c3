r"""The slider figure: one Plotly frame per position, shown by a page script, Plotly's JSON or a PNG."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json

from gaedu._validation import check_int

PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: The config every figure is drawn with: no mode bar (drag to zoom, double-click to reset), no logo, no links out.
CONFIG = {"displayModeBar": False, "displaylogo": False, "showLink": False, "responsive": True}
_DPI = 100
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _figure_type():
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise ImportError("gaedu.interactive needs plotly: pip install plotly") from None
    return go


def _png_bytes(static) -> bytes:
    """PNG bytes from a matplotlib figure (drawn at 100 dpi) or from PNG bytes."""
    if isinstance(static, (bytes, bytearray)):
        if not bytes(static).startswith(_PNG_SIGNATURE):
            raise ValueError("static must be a matplotlib figure or PNG bytes; the bytes given are not a PNG")
        return bytes(static)
    if not hasattr(static, "savefig"):
        raise ValueError(f"static must be a matplotlib figure or PNG bytes, got {type(static).__name__}")
    buffer = io.BytesIO()
    static.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


class SliderFigure:
    """A Plotly figure with precomputed frames, stepped through by a slider; see the module's docstring.

    Args:
        figure: a ``plotly.graph_objects.Figure`` whose ``frames`` (at least two) each have
            a distinct ``name``; the name is what the slider shows at that position.
        label: what the slider sets, shown beside it (``"learning rate η"``).
        static: the picture for the PDF and for pages without scripts, a matplotlib
            figure or PNG bytes.
        alt: one or two sentences that say what the figure shows, for readers who cannot see it.
        value: the frame shown first, an index into ``figure.frames``.
        play: add a button that steps through the frames (for frames in time).

    Raises:
        ValueError: any argument above that is missing, of the wrong kind or out of range.
        ImportError: plotly is not installed.
    """

    def __init__(self, figure, *, label: str, static, alt: str, value: int = 0, play: bool = False) -> None:
        go = _figure_type()
        if not isinstance(figure, go.Figure):
            raise ValueError(f"figure must be a plotly.graph_objects.Figure, got {type(figure).__name__}")
        names = [frame.name for frame in figure.frames]
        if len(names) < 2:
            raise ValueError(f"a slider needs at least 2 frames, the figure has {len(names)}")
        if any(not isinstance(name, str) or not name for name in names):
            raise ValueError("every frame needs a name, the text the slider shows at its position")
        if len(set(names)) != len(names):
            duplicated = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"frame names must be distinct, repeated: {', '.join(map(repr, duplicated))}")
        for name, text in (("label", label), ("alt", alt)):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{name} must be a non-empty string, got {text!r}")
        self.value = check_int("value", value, minimum=0, maximum=len(names) - 1)
        self.figure, self.names, self.label, self.alt, self.play = figure, names, label.strip(), alt.strip(), bool(play)
        self.png = _png_bytes(static)
        start = figure.frames[self.value]
        self.figure = go.Figure(figure)  # a copy that starts at the frame shown first
        for index, trace in zip(start.traces or range(len(start.data)), start.data, strict=True):
            self.figure.data[index].update({k: v for k, v in trace.to_plotly_json().items() if k != "type"})
        if start.layout is not None:
            self.figure.update_layout(start.layout.to_plotly_json())

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return (f"{self.label} slider over {len(self)} precomputed frames ({self.names[0]} … {self.names[-1]}), "
                f"showing {self.names[self.value]}; the HTML book and JupyterLab draw it with plotly.js")

    def spec(self) -> dict:
        """The figure as plain JSON data: ``data``, ``layout``, ``frames`` and ``config``."""
        spec = json.loads(self.figure.to_json())
        spec["config"] = dict(CONFIG)
        return spec

    def to_html(self) -> str:
        """The ``text/html`` version: controls, a place for the figure, the static image, and the script."""
        spec = json.dumps(self.spec(), separators=(",", ":"), sort_keys=True)
        uid = "gaedu-slider-" + hashlib.sha1(spec.encode() + self.png).hexdigest()[:12]  # the same figure, the same id
        safe_spec = spec.replace("</", "<\\/")  # nothing inside the JSON can close its <script>
        esc = html.escape
        play = '<button type="button" class="gaedu-slider-play">Play</button>' if self.play else ""
        image = base64.b64encode(self.png).decode("ascii")
        return (
            f'<div class="gaedu-slider-figure" id="{uid}">\n'
            f'<div class="gaedu-slider-controls" hidden>{play}'
            f'<label for="{uid}-range">{esc(self.label)}</label>'
            f'<input type="range" id="{uid}-range" min="0" max="{len(self) - 1}" step="1" value="{self.value}" '
            f'aria-valuetext="{esc(self.names[self.value])}">'
            f'<output for="{uid}-range">{esc(self.names[self.value])}</output></div>\n'
            f'<div class="gaedu-slider-plot" role="figure" aria-label="{esc(self.alt)}" hidden></div>\n'
            f'<img class="gaedu-slider-static" src="data:image/png;base64,{image}" alt="{esc(self.alt)}">\n'
            f'<script type="application/json" class="gaedu-slider-spec">{safe_spec}</script>\n'
            f"<script>{_SCRIPT.replace('__ID__', uid)}</script>\n"
            "</div>"
        )

    def plotly_json(self) -> dict:
        """The JupyterLab version: the same frames with Plotly's own slider under the figure."""
        spec = self.spec()
        steps = [{"label": name, "method": "animate",
                  "args": [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                    "transition": {"duration": 0}}]} for name in self.names]
        spec["layout"]["sliders"] = [{"active": self.value, "steps": steps, "pad": {"t": 40},
                                      "currentvalue": {"prefix": f"{self.label}: "}}]
        return spec

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {
            PLOTLY_MIME: self.plotly_json(),
            "text/html": self.to_html(),
            "image/png": base64.b64encode(self.png).decode("ascii"),
            "text/plain": repr(self),
        }
        return {mime: data for mime, data in bundle.items()
                if (include is None or mime in include) and (exclude is None or mime not in exclude)}


class MystNbPlugin:
    """myst-nb's mime-renderer plugin (entry point ``myst_nb.mime_renderers`` in ``pyproject.toml``).

    The HTML book draws a :class:`SliderFigure` from its ``text/html`` and the PDF from its
    ``image/png``; Plotly's JSON is for JupyterLab. myst-nb reads every version of an output
    and warns about a mime type it does not know, which fails the book's build (warnings are
    errors), so this plugin says: never choose the JSON, and render it as nothing.
    """

    mime_priority_overrides = (("*", PLOTLY_MIME, None),)

    @staticmethod
    def handle_mime(renderer, data, inline: bool):
        return [] if data.mime_type == PLOTLY_MIME else None


#: The page script of one figure: draw it with plotly.js if the page has it (the book serves it);
#: otherwise leave the static image. The slider animates to a frame; Play steps through them.
_SCRIPT = r"""(function () {
  var root = document.getElementById("__ID__");
  function start() {
    if (!window.Plotly || root.dataset.live) return;
    var spec = JSON.parse(root.querySelector(".gaedu-slider-spec").textContent);
    var plot = root.querySelector(".gaedu-slider-plot"), range = root.querySelector("input");
    var readout = root.querySelector("output"), play = root.querySelector(".gaedu-slider-play");
    var names = spec.frames.map(function (f) { return f.name; }), timer = null;
    plot.hidden = false;
    root.querySelector(".gaedu-slider-controls").hidden = false;
    root.querySelector(".gaedu-slider-static").hidden = true;
    function show(k) {
      range.value = k;
      readout.textContent = names[k];
      range.setAttribute("aria-valuetext", names[k]);
      return Plotly.animate(plot, [names[k]], {mode: "immediate", frame: {duration: 0, redraw: true},
                                               transition: {duration: 0}});
    }
    function stop() { clearInterval(timer); timer = null; if (play) play.textContent = "Play"; }
    Plotly.newPlot(plot, spec.data, spec.layout, spec.config).then(function () {
      return Plotly.addFrames(plot, spec.frames);
    }).then(function () {
      range.addEventListener("input", function () { stop(); show(+range.value); });
      if (play) play.addEventListener("click", function () {
        if (timer) return stop();
        if (+range.value === names.length - 1) show(0);
        play.textContent = "Pause";
        timer = setInterval(function () {
          var k = +range.value + 1;
          if (k >= names.length) return stop();
          show(k);
        }, 400);
      });
      root.dataset.live = "1";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();"""
