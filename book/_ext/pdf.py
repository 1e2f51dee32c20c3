"""A Sphinx extension for the book's PDF edition (``make pdf``: Jupyter Book's LaTeX builder, XeLaTeX).

``_config.yml`` loads it beside ``offline`` (``sphinx: local_extensions``). It
changes nothing in the HTML build.

* The document class is Sphinx's own ``manual``, not sphinx-jupyterbook-latex's
  ``jupyterBook`` class: that class loads ``bbm``, which only Debian's 500 MB
  ``texlive-fonts-extra`` ships, for macros (``\\RR``, ``\\EE``, ...) the book does
  not use. Parts, chapters and the table of contents are the same, and the
  code cells' frames are defined here (:data:`CELLS`).
* The text is set in DejaVu (:data:`FONTS`), and the Chinese terms with xeCJK in Noto Serif/Sans CJK SC (Debian's
  ``fonts-noto-cjk``), so they are real glyphs, not missing-character boxes; the
  PDF test reads XeLaTeX's log and fails on any "Missing character".
"""

from __future__ import annotations

#: The text fonts (Debian: fonts-dejavu-core): unlike Sphinx's default FreeSerif, they have the
#: subscript and superscript letters the chapters write (xₜ, Aᵀ).
FONTS = r"""
\setmainfont{DejaVu Serif}
\setsansfont{DejaVu Sans}
\setmonofont{DejaVu Sans Mono}[Scale=0.9]
\usepackage{newunicodechar}
\newunicodechar{ℓ}{\ifmmode\ell\else{\fontspec{DejaVu Sans}ℓ}\fi}% not in DejaVu Sans Mono (a code comment has it)
"""
#: The parts' captions in _toc.yml carry their own numerals ("II The algorithm"), so LaTeX's are dropped.
PARTS = r"""
\renewcommand{\thepart}{}
\addto\captionsenglish{\renewcommand{\partname}{}}
"""
#: The fonts xeCJK sets the Chinese terms in (Debian: fonts-noto-cjk).
CJK_FONTS = {"main": "Noto Serif CJK SC", "sans": "Noto Sans CJK SC", "mono": "Noto Sans Mono CJK SC"}

#: What the ``jupyterBook`` class would give the pages: the frames of code cells' inputs and
#: outputs (myst-nb writes ``sphinxVerbatimInput``/``Output`` around them), as in
#: sphinx-jupyterbook-latex (BSD-3-Clause): a grey input, a paler output indented further.
CELLS = r"""
\usepackage[strict]{changepage}
\definecolor{gaeduInputBorder}{RGB}{204,204,204}
\definecolor{gaeduInput}{RGB}{247,247,247}
\definecolor{gaeduOutputBorder}{RGB}{247,247,247}
\definecolor{gaeduOutput}{RGB}{252,252,252}
\newenvironment{sphinxVerbatimInput}
  {\colorlet{VerbatimBorderColor}{gaeduInputBorder}\colorlet{VerbatimColor}{gaeduInput}\begin{adjustwidth}{5pt}{}}
  {\end{adjustwidth}}
\newenvironment{sphinxVerbatimOutput}
  {\colorlet{VerbatimBorderColor}{gaeduOutputBorder}\colorlet{VerbatimColor}{gaeduOutput}\begin{adjustwidth}{20pt}{}}
  {\end{adjustwidth}}
"""

#: The table of contents: room for two-digit numbers ("10.10", chapter "11") before the titles, which the
#: class's widths (sized for Times, not the wider DejaVu) let them run into.
CONTENTS = r"""
\usepackage{etoolbox}
\makeatletter
\renewcommand{\sphinxtableofcontentshook}{%
  \renewcommand*\l@section{\@dottedtocline{1}{1.5em}{3.3em}}%
  \renewcommand*\l@subsection{\@dottedtocline{2}{4.8em}{4.2em}}%
  \patchcmd{\l@chapter}{\setlength\@tempdima{1.5em}}{\setlength\@tempdima{2.2em}}{}{}%
}
\makeatother
"""

#: The English edition's quotation marks and dashes in its own fonts: xeCJK would set them as Chinese
#: punctuation, a full-width glyph from the CJK font ("GAN’ s").
LATIN_PUNCTUATION = r"""
\xeCJKDeclareCharClass{Default}{"2013, "2014, "2018, "2019, "201C, "201D, "2026}
"""

PREAMBLE = "\n".join(
    [r"% The Chinese terms and the code cells (book/_ext/pdf.py)", r"\usepackage{xeCJK}"]
    + [rf"\setCJK{kind}font{{{font}}}[AutoFakeSlant]" for kind, font in CJK_FONTS.items()]
) + PARTS + CELLS + CONTENTS


#: The Chinese edition (``language: zh_CN``, tools.i18n): its chapters are 第 N 章, and LaTeX's own
#: headings are in Chinese. Sphinx sets Chinese with babel's English and xeCJK.
CHINESE = r"""
\titleformat{\chapter}[display]{\normalfont\huge\bfseries}{第\,\thechapter\,章}{16pt}{\Huge}
\addto\captionsenglish{\renewcommand{\chaptername}{}\renewcommand{\contentsname}{目录}\renewcommand{\bibname}{参考文献}%
  \renewcommand{\figurename}{图}\renewcommand{\tablename}{表}\renewcommand{\indexname}{索引}}
\xeCJKsetup{CJKecglue={\hskip 0.25em plus 0.1em}}
% The translation quotes with “ ” only: a ‘ or ’ is English (an apostrophe in a cited title, a name), set in its own font
\xeCJKDeclareCharClass{Default}{"2018, "2019}
"""


def _latex(app, config) -> None:
    """Runs after sphinx-jupyterbook-latex's own config-inited handler (priority 900), so its choices can be revised."""
    config["latex_theme"] = "manual"
    config["latex_use_xindy"] = False  # the book has no index; makeindex (TeX Live's own) is enough
    elements = config["latex_elements"]
    elements["fontpkg"] = FONTS
    preamble = PREAMBLE
    if (getattr(config, "language", None) or "en").startswith("zh"):
        preamble += CHINESE
        elements["fncychap"] = ""  # the chapter heading is CHINESE's
    else:
        preamble += LATIN_PUNCTUATION
    if preamble not in elements.get("preamble", ""):
        elements["preamble"] = preamble + "\n" + elements.get("preamble", "")


def setup(app):
    app.connect("config-inited", _latex, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
