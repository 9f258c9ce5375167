"""The network: its data (model/data/network.toml) read and checked, its tables, its pgmpy model."""
