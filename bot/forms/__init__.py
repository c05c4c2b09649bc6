"""The built-in outcome forms (YAML), read with importlib.resources."""
