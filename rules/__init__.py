"""The program language: loading, validation and compilation of program files.

``load_project`` reads program files and their workspace and returns every problem at once;
``compile_workspace`` turns validated programs into the compiled form defined in
:mod:`parcours.core.program`.
"""

from .compiler import CompiledWorkspace, compile_workspace
from .errors import Problem, ProgramError
from .model import Program, Workspace
from .project import Project, load_project

__all__ = [
    "CompiledWorkspace",
    "Problem",
    "Program",
    "ProgramError",
    "Project",
    "Workspace",
    "compile_workspace",
    "load_project",
]
