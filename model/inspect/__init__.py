"""Looking inside the network: its graph, review tables, likelihood ratios, sensitivity, exports."""
