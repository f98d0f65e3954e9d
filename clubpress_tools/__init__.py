"""Tools around the pipeline that are not part of it: the synthetic export generator
behind `clubpress sample` and `make sample`."""
