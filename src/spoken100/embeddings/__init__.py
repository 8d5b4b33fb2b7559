"""Chapter 3, UMAP: the paper's embedding, its structure scores beside t-SNE/PCA/MFCC, and the figures."""
