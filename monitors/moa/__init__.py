"""MOA documents: read a 287(g) memorandum of agreement (PDF) into its fields."""
