"""Chapter 1, the generation audit: checks that the corpus is what the paper describes, its tables and figures."""
