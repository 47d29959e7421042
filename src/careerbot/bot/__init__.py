"""The Discord front end: the only package that imports discord. It reads interactions, calls the
engine, and renders its answers."""
