"""gaedu: the small PyTorch package behind the book *Gradient Ascent in Image
Generation and Reconstruction*.

Importing the package does no work: no data is loaded, nothing is trained and
nothing is printed. Heavy optional dependencies (scikit-learn, matplotlib) are
imported only by the functions that need them.
"""

from gaedu._version import __version__
from gaedu.device import available_devices, get_device, set_seed
from gaedu.report import results, table
from gaedu.zoo import pretrained

__all__ = ["__version__", "available_devices", "get_device", "pretrained", "results", "set_seed", "table"]
