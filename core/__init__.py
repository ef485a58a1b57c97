"""The engine's heart: the compiled form of programs and the code that executes it.

core/ defines the instruction set (``bytecode``), the compiled program (``program``), the shared
name tables (``catalog``) and the reference evaluator; rules/ compiles program files into these
shapes. core/ never imports rules/, actors/ or ops/.
"""

from ._sources import install

install()  # the source of a compiled module runs when wanted or newer (see _sources)
