"""When to seek care: the guideline rules of model/data/care.toml, evaluated for many cases at once."""
