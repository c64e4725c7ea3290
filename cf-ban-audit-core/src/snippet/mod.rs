//! Allow/ignore snippets, one module per target tool: what to write into each tool's
//! configuration so that it never bans the ranges of a [`RangeSet`](crate::RangeSet) again.

pub mod fail2ban;
