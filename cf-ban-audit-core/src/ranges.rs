//! [`RangeSet`]: a set of IPv4 and IPv6 networks kept as sorted, merged intervals of integers
//! (`u32` for IPv4, `u128` for IPv6), so that a lookup is one binary search whatever the
//! number of ranges, and union, difference and coverage are exact.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::addr::{normalize_ip, normalize_net};

/// The integer types an address family is stored in.
trait Bits: Copy + Ord + fmt::Debug {
    const WIDTH: u32;
    const ZERO: Self;
    fn inc(self) -> Option<Self>;
    fn dec(self) -> Option<Self>;
    fn trailing_zeros(self) -> u32;
    /// The mask of the low `k` bits (`k` may be the full width).
    fn low_mask(k: u32) -> Self;
    fn or(self, other: Self) -> Self;
}

macro_rules! impl_bits {
    ($t:ty) => {
        impl Bits for $t {
            const WIDTH: u32 = <$t>::BITS;
            const ZERO: Self = 0;
            fn inc(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn dec(self) -> Option<Self> {
                self.checked_sub(1)
            }
            fn trailing_zeros(self) -> u32 {
                <$t>::trailing_zeros(self)
            }
            fn low_mask(k: u32) -> Self {
                if k >= Self::WIDTH {
                    Self::MAX
                } else {
                    ((1 as $t) << k) - 1
                }
            }
            fn or(self, other: Self) -> Self {
                self | other
            }
        }
    };
}
impl_bits!(u32);
impl_bits!(u128);

/// Sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, PartialEq, Eq, Default)]
struct Intervals<T: Bits>(Vec<(T, T)>);

impl<T: Bits> Intervals<T> {
    fn from_unsorted(mut v: Vec<(T, T)>) -> Self {
        v.sort_unstable();
        let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            if let Some(last) = out.last_mut() {
                // Merge when overlapping or adjacent.
                if last.1.inc().is_none_or(|next| lo <= next) {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                    continue;
                }
            }
            out.push((lo, hi));
        }
        Intervals(out)
    }

    /// The index of the first interval whose end is at or after `x`.
    fn first_ending_at_or_after(&self, x: T) -> usize {
        self.0.partition_point(|&(_, hi)| hi < x)
    }

    fn contains(&self, x: T) -> bool {
        self.0
            .get(self.first_ending_at_or_after(x))
            .is_some_and(|&(lo, _)| lo <= x)
    }

    fn overlaps(&self, lo: T, hi: T) -> bool {
        self.0
            .get(self.first_ending_at_or_after(lo))
            .is_some_and(|&(l, _)| l <= hi)
    }

    fn covers(&self, lo: T, hi: T) -> bool {
        self.0
            .get(self.first_ending_at_or_after(lo))
            .is_some_and(|&(l, h)| l <= lo && hi <= h)
    }

    fn union(&self, other: &Self) -> Self {
        Self::from_unsorted(self.0.iter().chain(other.0.iter()).copied().collect())
    }

    fn difference(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        for &(lo, hi) in &self.0 {
            let mut cur = Some(lo);
            let mut i = other.first_ending_at_or_after(lo);
            while let Some(start) = cur {
                match other.0.get(i) {
                    Some(&(olo, ohi)) if olo <= hi => {
                        if olo > start {
                            out.push((start, olo.dec().expect("olo > start >= 0")));
                        }
                        cur = if ohi >= hi { None } else { ohi.inc() };
                        i += 1;
                    }
                    _ => {
                        out.push((start, hi));
                        cur = None;
                    }
                }
            }
        }
        Intervals(out)
    }

    /// The minimal list of CIDR blocks (start, prefix length) that covers the intervals.
    fn to_blocks(&self) -> Vec<(T, u8)> {
        let mut out = Vec::new();
        for &(lo, hi) in &self.0 {
            let mut start = lo;
            loop {
                let mut k = if start == T::ZERO {
                    T::WIDTH
                } else {
                    start.trailing_zeros()
                };
                while start.or(T::low_mask(k)) > hi {
                    k -= 1;
                }
                out.push((start, (T::WIDTH - k) as u8));
                let end = start.or(T::low_mask(k));
                match end.inc() {
                    Some(next) if end < hi => start = next,
                    _ => break,
                }
            }
        }
        out
    }

    fn address_count(&self) -> u128
    where
        T: Into<u128>,
    {
        self.0
            .iter()
            .map(|&(lo, hi)| (hi.into() - lo.into()).saturating_add(1))
            .fold(0u128, u128::saturating_add)
    }
}

fn v4_bounds(net: &Ipv4Net) -> (u32, u32) {
    (u32::from(net.network()), u32::from(net.broadcast()))
}

fn v6_bounds(net: &Ipv6Net) -> (u128, u128) {
    (u128::from(net.network()), u128::from(net.broadcast()))
}

/// A network as the intervals it stands for: IPv4-mapped IPv6 addresses are IPv4, so the
/// mapped block of an IPv6 network (`::/0` holds all of it) is its IPv4 part.
struct Parts {
    v4: Option<(u32, u32)>,
    v6: [Option<(u128, u128)>; 2],
}

impl Parts {
    fn of(net: &IpNet) -> Parts {
        match normalize_net(*net) {
            IpNet::V4(n) => Parts {
                v4: Some(v4_bounds(&n)),
                v6: [None, None],
            },
            IpNet::V6(n) => {
                let (lo, hi) = v6_bounds(&n);
                let (mlo, mhi) = (lo.max(MAPPED.0), hi.min(MAPPED.1));
                if mlo > mhi {
                    return Parts {
                        v4: None,
                        v6: [Some((lo, hi)), None],
                    };
                }
                Parts {
                    v4: Some((mlo as u32, mhi as u32)),
                    v6: [
                        (lo < mlo).then(|| (lo, mlo - 1)),
                        (mhi < hi).then(|| (mhi + 1, hi)),
                    ],
                }
            }
        }
    }
}

/// A set of IPv4 and IPv6 networks, such as Cloudflare's published ranges.
///
/// Networks are merged on construction; IPv4-mapped IPv6 addresses and networks are matched
/// as IPv4. Lookups are `O(log n)` in the number of merged intervals.
///
/// ```
/// use cf_ban_audit_core::RangeSet;
/// let set: RangeSet = ["104.16.0.0/13", "2606:4700::/32"].iter().map(|s| s.parse().unwrap()).collect();
/// assert!(set.contains("104.16.5.5".parse().unwrap()));
/// assert!(set.contains("::ffff:104.16.5.5".parse().unwrap()));
/// assert!(!set.contains("192.0.2.1".parse().unwrap()));
/// assert!(set.overlaps(&"104.0.0.0/8".parse().unwrap()));
/// assert!(!set.covers(&"104.0.0.0/8".parse().unwrap()));
/// assert_eq!(set.matching(&"2606:4700:10::1/128".parse().unwrap()).unwrap().to_string(), "2606:4700::/32");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RangeSet {
    v4: Intervals<u32>,
    v6: Intervals<u128>,
    /// The minimal CIDR cover of the intervals, IPv4 first, each family sorted.
    nets: Vec<IpNet>,
    /// The first bytes the intervals reach, IPv4 and IPv6: most addresses a scan reads are
    /// none of the set's, and one bit tells so before any search.
    v4_first: FirstBytes,
    v6_first: FirstBytes,
}

/// A set of 256 first bytes (of an address).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct FirstBytes([u64; 4]);

impl FirstBytes {
    /// The first bytes from `lo` to `hi`, inclusive.
    fn add(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.0[usize::from(b >> 6)] |= 1 << (b & 63);
        }
    }

    fn has(self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }
}

impl RangeSet {
    /// An empty set.
    pub fn new() -> RangeSet {
        RangeSet::default()
    }

    fn from_intervals(v4: Intervals<u32>, v6: Intervals<u128>) -> RangeSet {
        let mut nets: Vec<IpNet> = v4
            .to_blocks()
            .into_iter()
            .map(|(start, len)| {
                IpNet::V4(Ipv4Net::new(Ipv4Addr::from(start), len).expect("valid prefix"))
            })
            .collect();
        nets.extend(v6.to_blocks().into_iter().map(|(start, len)| {
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(start), len).expect("valid prefix"))
        }));
        let mut v4_first = FirstBytes::default();
        for &(lo, hi) in &v4.0 {
            v4_first.add((lo >> 24) as u8, (hi >> 24) as u8);
        }
        let mut v6_first = FirstBytes::default();
        for &(lo, hi) in &v6.0 {
            v6_first.add((lo >> 120) as u8, (hi >> 120) as u8);
        }
        RangeSet {
            v4,
            v6,
            nets,
            v4_first,
            v6_first,
        }
    }

    /// Whether the set holds an address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match normalize_ip(ip) {
            IpAddr::V4(v4) => self.v4.contains(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.contains(u128::from(v6)),
        }
    }

    /// Whether any address of `net` is in the set (a CIDR ban that hits a range).
    pub fn overlaps(&self, net: &IpNet) -> bool {
        // The common case first: an IPv4 network within one first byte, or an IPv6 one
        // outside the mapped block within one first byte, that no range reaches.
        match net {
            IpNet::V4(n) => {
                let (lo, hi) = v4_bounds(n);
                let first = (lo >> 24) as u8;
                if first == (hi >> 24) as u8 && !self.v4_first.has(first) {
                    return false;
                }
                return self.v4.overlaps(lo, hi);
            }
            IpNet::V6(n) => {
                let (lo, hi) = v6_bounds(n);
                let first = (lo >> 120) as u8;
                // The mapped block (::ffff:0:0/96) starts with a zero byte.
                if first != 0 && first == (hi >> 120) as u8 && !self.v6_first.has(first) {
                    return false;
                }
            }
        }
        self.overlaps_parts(net)
    }

    /// [`RangeSet::overlaps`] without its shortcuts.
    fn overlaps_parts(&self, net: &IpNet) -> bool {
        let parts = Parts::of(net);
        parts.v4.is_some_and(|(lo, hi)| self.v4.overlaps(lo, hi))
            || parts
                .v6
                .iter()
                .flatten()
                .any(|&(lo, hi)| self.v6.overlaps(lo, hi))
    }

    /// Whether every address of `net` is in the set.
    pub fn covers(&self, net: &IpNet) -> bool {
        let parts = Parts::of(net);
        parts.v4.is_none_or(|(lo, hi)| self.v4.covers(lo, hi))
            && parts
                .v6
                .iter()
                .flatten()
                .all(|&(lo, hi)| self.v6.covers(lo, hi))
    }

    /// The first network of the set (in [`RangeSet::nets`] order) that `net` overlaps: the
    /// range a ban hits.
    pub fn matching(&self, net: &IpNet) -> Option<IpNet> {
        let parts = Parts::of(net);
        let v4 = parts.v4.and_then(|(lo, hi)| {
            let lo = IpAddr::V4(Ipv4Addr::from(lo));
            let hi = IpAddr::V4(Ipv4Addr::from(hi));
            self.first_overlapping(lo, hi)
        });
        v4.or_else(|| {
            parts.v6.iter().flatten().find_map(|&(lo, hi)| {
                self.first_overlapping(
                    IpAddr::V6(Ipv6Addr::from(lo)),
                    IpAddr::V6(Ipv6Addr::from(hi)),
                )
            })
        })
    }

    /// The first network of [`RangeSet::nets`] that meets `[lo, hi]` (one family).
    fn first_overlapping(&self, lo: IpAddr, hi: IpAddr) -> Option<IpNet> {
        let v6 = lo.is_ipv6();
        let i = self.nets.partition_point(|n| match (n, v6) {
            (IpNet::V4(_), true) => true,
            (IpNet::V6(_), false) => false,
            _ => n.broadcast() < lo,
        });
        self.nets
            .get(i)
            .copied()
            .filter(|n| matches!(n, IpNet::V6(_)) == v6 && n.network() <= hi)
    }

    /// Every address of either set.
    pub fn union(&self, other: &RangeSet) -> RangeSet {
        RangeSet::from_intervals(self.v4.union(&other.v4), self.v6.union(&other.v6))
    }

    /// The addresses of `self` that are not in `other`.
    ///
    /// ```
    /// use cf_ban_audit_core::RangeSet;
    /// let old: RangeSet = ["104.16.0.0/12".parse().unwrap()].into_iter().collect();
    /// let new: RangeSet = ["104.16.0.0/13".parse().unwrap(), "104.24.0.0/14".parse().unwrap()].into_iter().collect();
    /// let stale = old.difference(&new);
    /// assert_eq!(stale.nets().iter().map(|n| n.to_string()).collect::<Vec<_>>(), ["104.28.0.0/14"]);
    /// ```
    pub fn difference(&self, other: &RangeSet) -> RangeSet {
        RangeSet::from_intervals(self.v4.difference(&other.v4), self.v6.difference(&other.v6))
    }

    /// The networks of [`RangeSet::nets`] that `have` does not wholly cover: what an allow list
    /// holding `have` still lacks.
    ///
    /// ```
    /// use cf_ban_audit_core::RangeSet;
    /// let set: RangeSet = ["104.16.0.0/13", "172.64.0.0/13"].iter().map(|n| n.parse().unwrap()).collect();
    /// let have: RangeSet = ["104.16.0.0/12"].iter().map(|n| n.parse().unwrap()).collect();
    /// let missing: Vec<String> = set.missing_from(&have).map(|n| n.to_string()).collect();
    /// assert_eq!(missing, ["172.64.0.0/13"]);
    /// ```
    pub fn missing_from<'a>(&'a self, have: &'a RangeSet) -> impl Iterator<Item = &'a IpNet> + 'a {
        self.nets().iter().filter(move |n| !have.covers(n))
    }

    /// The minimal CIDR list that covers exactly the set: IPv4 first, each family sorted.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// The IPv4 networks of [`RangeSet::nets`].
    pub fn v4_nets(&self) -> impl Iterator<Item = &IpNet> {
        self.nets.iter().filter(|n| matches!(n, IpNet::V4(_)))
    }

    /// The IPv6 networks of [`RangeSet::nets`].
    pub fn v6_nets(&self) -> impl Iterator<Item = &IpNet> {
        self.nets.iter().filter(|n| matches!(n, IpNet::V6(_)))
    }

    /// The number of IPv4 addresses in the set.
    pub fn v4_address_count(&self) -> u128 {
        self.v4.address_count()
    }

    /// Whether the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

/// The IPv4-mapped block `::ffff:0:0/96`, as an interval.
const MAPPED: (u128, u128) = (0xffff_0000_0000, 0xffff_ffff_ffff);

impl FromIterator<IpNet> for RangeSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> RangeSet {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for net in iter {
            let parts = Parts::of(&net);
            v4.extend(parts.v4);
            v6.extend(parts.v6.into_iter().flatten());
        }
        RangeSet::from_intervals(Intervals::from_unsorted(v4), Intervals::from_unsorted(v6))
    }
}

impl fmt::Debug for RangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.nets.iter().map(|n| n.to_string()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(nets: &[&str]) -> RangeSet {
        nets.iter().map(|s| s.parse::<IpNet>().unwrap()).collect()
    }

    fn strings(s: &RangeSet) -> Vec<String> {
        s.nets().iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn merges_adjacent_and_overlapping() {
        let s = set(&[
            "10.0.0.0/25",
            "10.0.0.128/25",
            "10.0.0.5/32",
            "2000::/4",
            "3000::/4",
        ]);
        assert_eq!(strings(&s), ["10.0.0.0/24", "2000::/3"]);
    }

    #[test]
    fn edges_of_the_address_space() {
        let s = set(&["0.0.0.0/0"]);
        assert!(s.contains("255.255.255.255".parse().unwrap()));
        assert!(s.covers(&"0.0.0.0/0".parse().unwrap()));
        let top = set(&[
            "255.255.255.255/32",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
        ]);
        assert!(top.contains("255.255.255.255".parse().unwrap()));
        assert_eq!(
            strings(&s.difference(&top)),
            [
                "0.0.0.0/1",
                "128.0.0.0/2",
                "192.0.0.0/3",
                "224.0.0.0/4",
                "240.0.0.0/5",
                "248.0.0.0/6",
                "252.0.0.0/7",
                "254.0.0.0/8",
                "255.0.0.0/9",
                "255.128.0.0/10",
                "255.192.0.0/11",
                "255.224.0.0/12",
                "255.240.0.0/13",
                "255.248.0.0/14",
                "255.252.0.0/15",
                "255.254.0.0/16",
                "255.255.0.0/17",
                "255.255.128.0/18",
                "255.255.192.0/19",
                "255.255.224.0/20",
                "255.255.240.0/21",
                "255.255.248.0/22",
                "255.255.252.0/23",
                "255.255.254.0/24",
                "255.255.255.0/25",
                "255.255.255.128/26",
                "255.255.255.192/27",
                "255.255.255.224/28",
                "255.255.255.240/29",
                "255.255.255.248/30",
                "255.255.255.252/31",
                "255.255.255.254/32"
            ]
        );
    }

    #[test]
    fn overlap_is_not_containment() {
        let s = set(&["173.245.48.0/20"]);
        assert!(s.overlaps(&"173.245.0.0/16".parse().unwrap()));
        assert!(!s.covers(&"173.245.0.0/16".parse().unwrap()));
        assert!(s.covers(&"173.245.48.0/21".parse().unwrap()));
        assert!(!s.overlaps(&"173.245.64.0/20".parse().unwrap()));
        assert_eq!(
            s.matching(&"173.0.0.0/8".parse().unwrap())
                .unwrap()
                .to_string(),
            "173.245.48.0/20"
        );
        assert_eq!(s.matching(&"2606:4700::/32".parse().unwrap()), None);
    }

    #[test]
    fn difference_splits_intervals() {
        let a = set(&["10.0.0.0/24", "2001:db8::/32"]);
        let b = set(&["10.0.0.64/26", "2001:db8:8000::/33"]);
        assert_eq!(
            strings(&a.difference(&b)),
            ["10.0.0.0/26", "10.0.0.128/25", "2001:db8::/33"]
        );
        assert_eq!(a.union(&b), a);
        assert!(b.difference(&a).is_empty());
    }

    proptest::proptest! {
        /// The shortcuts of `overlaps` (one bit per first byte, IPv4 read directly) answer
        /// as the intervals do, for networks of every width in and around the ranges.
        #[test]
        fn overlaps_agrees_with_the_intervals(
            extra in proptest::collection::vec((proptest::num::u32::ANY, 0u8..=32), 0..4),
            v4 in proptest::collection::vec((proptest::sample::select(vec![0u8, 45, 103, 104, 108, 162, 172, 173, 255]), proptest::num::u32::ANY, 0u8..=32), 1..32),
            v6 in proptest::collection::vec((proptest::sample::select(vec![0u8, 0x20, 0x24, 0x26, 0x2a, 0xff]), proptest::num::u128::ANY, 0u8..=128), 1..32),
            mapped in proptest::collection::vec((proptest::num::u32::ANY, 96u8..=128), 0..4),
        ) {
            let mut nets: Vec<IpNet> = crate::cloudflare::embedded().nets().to_vec();
            nets.extend(extra.iter().map(|&(a, len)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).unwrap())));
            let s: RangeSet = nets.into_iter().collect();
            let tests = v4
                .iter()
                .map(|&(first, rest, len)| {
                    let a = (u32::from(first) << 24) | (rest & 0x00ff_ffff);
                    IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).unwrap())
                })
                .chain(v6.iter().map(|&(first, rest, len)| {
                    let a = (u128::from(first) << 120) | (rest >> 8);
                    IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).unwrap())
                }))
                .chain(mapped.iter().map(|&(a, len)| {
                    let ip = Ipv4Addr::from(a).to_ipv6_mapped();
                    IpNet::V6(Ipv6Net::new(ip, len).unwrap())
                }));
            for net in tests {
                proptest::prop_assert_eq!(s.overlaps(&net), s.overlaps_parts(&net), "{}", net);
                proptest::prop_assert_eq!(s.overlaps(&net), s.matching(&net).is_some(), "{}", net);
            }
        }
    }

    #[test]
    fn mapped_v6_matches_v4() {
        let s = set(&["::ffff:104.16.0.0/109"]);
        assert_eq!(strings(&s), ["104.16.0.0/13"]);
        assert!(s.contains("::ffff:104.23.255.255".parse().unwrap()));
    }

    #[test]
    fn the_mapped_block_of_a_wide_v6_network_is_ipv4() {
        let all6 = set(&["::/0"]);
        assert!(all6.contains("::ffff:104.16.0.1".parse().unwrap()));
        assert!(all6.contains("104.16.0.1".parse().unwrap()));
        assert!(all6.covers(&"::ffff:0.0.0.0/95".parse().unwrap()));
        assert!(all6.contains("2606:4700::1".parse().unwrap()));
        let back: RangeSet = all6.nets().iter().copied().collect();
        assert_eq!(back, all6);
        let cut = all6.difference(&set(&["::/96", "::1:0:0:0/80"]));
        let back: RangeSet = cut.nets().iter().copied().collect();
        assert_eq!(back, cut);
    }
}
