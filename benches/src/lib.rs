//! Benchmarks of cf-ban-audit and the deterministic corpus generator they run on.
