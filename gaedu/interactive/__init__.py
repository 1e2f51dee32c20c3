r"""Figures with a slider that work in the static book: no kernel, no network.

A :class:`SliderFigure` is a Plotly figure with one *frame* per slider position,
every frame computed in advance. Its display carries three versions of itself:

* ``text/html`` for the built book: a labelled ``<input type="range">`` (keyboard
  and screen-reader friendly), the figure drawn by Plotly's JavaScript, which the
  book serves from its own ``_static`` folder (``book/_ext/offline.py``), and the
  static image, which stays in place of the figure where no script runs;
* ``application/vnd.plotly.v1+json`` for JupyterLab, whose Plotly extension draws
  the same frames with Plotly's own slider;
* ``image/png`` for the PDF edition and any renderer without scripts: a picture
  drawn with matplotlib, usually several slider positions side by side.

Three builders make the book's figures: :func:`learning_rate_slider` (ascent on one
objective over a grid of learning rates), :func:`training_map_slider` (a GAN
discriminator's map and the generator's samples over training) and
:func:`method_slider` (the same images restored by several methods).
"""

from gaedu.interactive.figure import CONFIG, PLOTLY_MIME, MystNbPlugin, SliderFigure
from gaedu.interactive.sliders import image_png, learning_rate_slider, method_slider, training_map_slider

__all__ = [
    "CONFIG",
    "PLOTLY_MIME",
    "MystNbPlugin",
    "SliderFigure",
    "image_png",
    "learning_rate_slider",
    "method_slider",
    "training_map_slider",
]
