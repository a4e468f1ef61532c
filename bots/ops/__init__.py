"""Operations: health checks, Prometheus metrics, the ops port and timed background work."""
