"""beakerlike-varstore: save notebook variables to SQLite and load them back.

Installing the package is all it takes: the ``varstore`` entry point (group
``beakerlike``) points at this module, and its ``@beakerlike.action`` functions
become the ``save_var``, ``load_var`` and ``list_vars`` actions.
"""

from .actions import list_vars, load_var, save_var
from .codec import UnsupportedType
from .store import NotAVarstore, StoreBusy, StorePathRefused

__version__ = "0.1.0"
__all__ = ["NotAVarstore", "StoreBusy", "StorePathRefused", "UnsupportedType", "list_vars", "load_var", "save_var"]
