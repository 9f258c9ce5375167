"""The case contract: fields, their values, and a case turned into the network's evidence."""
