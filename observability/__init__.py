"""Operations: errors grouped by fingerprint, structured-log capture, Prometheus metrics."""
