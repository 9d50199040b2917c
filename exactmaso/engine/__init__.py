"""The region-enumeration engines.

Every cell of the first ``l`` layers is a convex polytope; layer ``l`` cuts each cell by the
hyperplanes of its units.  Every sign is decided by a float filter with a rigorous error
bound or, where it cannot decide, in exact rational arithmetic, so the combinatorics (which
regions exist, their codes, facets and vertex incidences) is exact; exact coordinates and
hyperplanes are computed from the codes when asked for.

The parts, one concern each:

- :mod:`.kernel`: the exact kernel (exact maps, facet rows and vertices from codes);
- :mod:`.filter`: the float filter (rounded layers, error bounds, proved signs);
- :mod:`.cells`: what is known of a cell or region (float geometry, labels, records, pruning);
- :mod:`.stores`: flat vertex/edge stores and codes of the batched engines;
- :mod:`.batch2d`: all cells of a layer at once, 2-D inputs, any number of pieces;
- :mod:`.batchnd`: all cells of a layer at once, every other input dimension, any number of pieces;
- :mod:`.driver`: limits, progress, workers.
"""
