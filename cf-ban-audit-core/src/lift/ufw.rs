//! ufw: `ufw delete RULE` with the rule in ufw's own words, rebuilt from a `### tuple ###` line
//! of `user.rules` (the rule exactly) or from a `ufw status` row (when the row says it all), or
//! taken from a `ufw show added` line.
//!
//! The words follow ufw's `UFWCommandRule.get_command` (what `ufw show added` prints and what
//! `ufw delete NUM` asks to confirm), without the comment: ufw's `delete` matches a rule
//! whatever its comment when none is given.

use super::{first_ok, name, own};
use crate::format_id::Format;
use crate::formats::grammar::words::shell_words;
use crate::report::{Evidence, Finding};

/// A rule as ufw holds it (`ufw.common.UFWRule`): the fields its `get_command` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rule {
    action: String,
    logtype: String,
    forward: bool,
    protocol: String,
    dport: String,
    dst: String,
    sport: String,
    src: String,
    dapp: String,
    sapp: String,
    direction: String,
    iface_in: String,
    iface_out: String,
}

impl Rule {
    fn new() -> Rule {
        Rule {
            protocol: "any".into(),
            dport: "any".into(),
            sport: "any".into(),
            dst: "0.0.0.0/0".into(),
            src: "0.0.0.0/0".into(),
            direction: "in".into(),
            ..Rule::default()
        }
    }

    /// `allow`, `deny`, `reject` or `limit`, with `_log`/`_log-all` (ufw's `set_action`).
    fn set_action(&mut self, action: &str) {
        let lower = action.to_lowercase();
        let mut parts = lower.split('_');
        self.action = match parts.next() {
            Some(a @ ("allow" | "reject" | "limit")) => a.to_string(),
            _ => "deny".to_string(),
        };
        self.logtype = parts.next().unwrap_or_default().to_string();
    }

    /// ufw's `UFWCommandRule.get_command` (full syntax: a rule with a source is never written
    /// in the short one), without the comment, as words.
    fn command(&self) -> Vec<String> {
        let any = |a: &str| a == "0.0.0.0/0" || a == "::/0";
        let mut words = vec![self.action.clone()];
        if !self.iface_in.is_empty() {
            words.extend(["in".into(), "on".into(), self.iface_in.clone()]);
        }
        if !self.iface_out.is_empty() {
            words.extend(["out".into(), "on".into(), self.iface_out.clone()]);
        } else if self.direction == "out" {
            words.push("out".into());
        }
        if !self.logtype.is_empty() {
            words.push(self.logtype.clone());
        }
        let mut from_or_to = false;
        for (dir, loc, port, app) in [
            ("from", &self.src, &self.sport, &self.sapp),
            ("to", &self.dst, &self.dport, &self.dapp),
        ] {
            let loc = if any(loc) { "any" } else { loc.as_str() };
            if loc != "any" || port != "any" || !app.is_empty() {
                from_or_to = true;
                words.extend([dir.to_string(), loc.to_string()]);
                if !app.is_empty() {
                    words.extend(["app".to_string(), app.clone()]);
                } else if port != "any" {
                    words.extend(["port".to_string(), port.clone()]);
                }
            }
        }
        if !from_or_to && self.iface_in.is_empty() && self.iface_out.is_empty() {
            words.extend(["to".into(), "any".into()]);
        }
        if self.protocol != "any" && self.dapp.is_empty() && self.sapp.is_empty() {
            words.extend(["proto".into(), self.protocol.clone()]);
        }
        words
    }
}

/// A `### tuple ###` line (ufw's `_read_rules`): `ACTION PROTO DPORT DST SPORT SRC [DAPP
/// SAPP] [DIRECTION] [comment=HEX]`.
fn from_tuple(text: &str) -> Result<Rule, String> {
    let body = text
        .strip_prefix("### tuple ###")
        .ok_or("not a ufw tuple")?;
    let body = match body.split_once(" comment=") {
        Some((fields, _)) => fields,
        // Cut short by the report (an ellipsis), with the end of the fields not in it.
        None if body.ends_with('…') => return Err("the ufw tuple was cut short".into()),
        None => body,
    };
    let fields: Vec<&str> = body.split_whitespace().collect();
    if !(6..=9).contains(&fields.len()) {
        return Err(format!("a ufw tuple of {} fields", fields.len()));
    }
    let mut rule = Rule::new();
    if fields.len() == 7 || fields.len() == 9 {
        let last = fields[fields.len() - 1];
        rule.direction = last.split('_').next().unwrap_or_default().to_string();
        if !matches!(rule.direction.as_str(), "in" | "out") {
            return Err(format!("a ufw tuple with the direction {last:?}"));
        }
        if last.contains('_') {
            if let Some((a, b)) = last.split_once('!') {
                rule.iface_in = a.split_once('_').map(|x| x.1).unwrap_or_default().into();
                rule.iface_out = b.split_once('_').map(|x| x.1).unwrap_or_default().into();
            } else if let Some(i) = last.strip_prefix("in_") {
                rule.iface_in = i.into();
            } else if let Some(o) = last.strip_prefix("out_") {
                rule.iface_out = o.into();
            } else {
                return Err(format!("a ufw tuple with the direction {last:?}"));
            }
        }
    }
    let mut action = fields[0];
    if let Some((_, a)) = action.split_once(':') {
        rule.forward = true;
        action = a;
    }
    rule.set_action(action);
    rule.protocol = fields[1].into();
    rule.dport = fields[2].into();
    rule.dst = fields[3].into();
    rule.sport = fields[4].into();
    rule.src = fields[5].into();
    if fields.len() >= 8 {
        if fields[6] != "-" {
            rule.dapp = fields[6].replace("%20", " ");
        }
        if fields[7] != "-" {
            rule.sapp = fields[7].replace("%20", " ");
        }
    }
    Ok(rule)
}

/// A port or port list as ufw shows it (`22`, `80,443`, `6000:6007`), with `/PROTO`.
fn port_proto(word: &str) -> Option<(String, Option<String>)> {
    let (port, proto) = match word.split_once('/') {
        Some((p, proto)) => (p, Some(proto)),
        None => (word, None),
    };
    let port_ok = port.starts_with(|c: char| c.is_ascii_digit())
        && port
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b':');
    let proto_ok = proto.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()));
    (port_ok && proto_ok).then(|| (port.to_string(), proto.map(str::to_string)))
}

/// One side of a status row (`To` or `From`): an address, a port, an application.
#[derive(Debug, Default)]
struct Side {
    addr: Option<String>,
    port: Option<String>,
    proto: Option<String>,
    app: Option<String>,
    iface: Option<String>,
}

/// Reads one column of a `ufw status` row, as ufw's `get_status` writes it: `Anywhere`,
/// `ADDR`, `ADDR/PROTO`, `PORT[/PROTO]`, `ADDR PORT[/PROTO]`, `PORT/PROTO (APP)` (verbose),
/// `APP` or `ADDR APP`, then ` (v6)` and ` on IFACE`.
fn side(text: &str) -> Option<Side> {
    let mut text = text.trim().replace(" (v6)", "");
    let mut s = Side::default();
    if let Some((rest, iface)) = text.rsplit_once(" on ") {
        if iface.is_empty() || iface.contains(' ') {
            return None;
        }
        s.iface = Some(iface.to_string());
        text = rest.trim().to_string();
    } else if let Some(iface) = text.strip_prefix("on ") {
        s.iface = Some(iface.to_string());
        text = "Anywhere".into();
    }
    if let Some(open) = text.find(" (") {
        let app = text[open + 2..].strip_suffix(')')?;
        s.app = Some(app.to_string());
        text.truncate(open);
    }
    let mut words = text.split(' ');
    let first = words.next()?;
    let rest: Vec<&str> = words.collect();
    let (addr_word, proto) = match first.rsplit_once('/') {
        // `104.16.0.1/tcp`: an address with the protocol.
        Some((a, p))
            if !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_lowercase())
                && crate::addr::parse_net(a.as_bytes()).is_some() =>
        {
            (a, Some(p.to_string()))
        }
        _ => (first, None),
    };
    if first.starts_with("Anywhere") {
        if !rest.is_empty() {
            return None;
        }
        s.proto = first.strip_prefix("Anywhere/").map(str::to_string);
        return Some(s);
    }
    if crate::addr::parse_net(addr_word.as_bytes()).is_some() {
        s.addr = Some(addr_word.to_string());
        s.proto = proto;
        match rest.as_slice() {
            [] => {}
            [p] if port_proto(p).is_some() && s.proto.is_none() => {
                let (port, proto) = port_proto(p)?;
                s.port = Some(port);
                s.proto = proto;
            }
            // A non-verbose application name, spaces and all.
            app if s.app.is_none() && s.proto.is_none() && !app.contains(&"on") => {
                s.app = Some(app.join(" "))
            }
            _ => return None,
        }
        return Some(s);
    }
    match port_proto(&text) {
        Some((port, proto)) => {
            s.port = Some(port);
            s.proto = proto;
        }
        None if s.app.is_none() => s.app = Some(text.to_string()),
        None => return None,
    }
    Some(s)
}

/// A `ufw status` row (plain, `numbered` or `verbose`).
fn from_row(row: &str) -> Result<Rule, String> {
    let unclear = || format!("the `ufw status` row does not say the rule exactly: {row:?}");
    let mut text = row.trim();
    if text.starts_with('[') {
        text = text
            .split_once(']')
            .map(|x| x.1)
            .ok_or_else(unclear)?
            .trim_start();
    }
    // The action: the first ALLOW/DENY/REJECT/LIMIT word after the `To` column.
    let mut at = None;
    let mut offset = 0;
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 && matches!(word, "ALLOW" | "DENY" | "REJECT" | "LIMIT") {
            at = Some((offset, word));
            break;
        }
        offset += word.len() + 1;
    }
    let (at, action) = at.ok_or_else(unclear)?;
    let to = &text[..at];
    let mut rest = text[at + action.len()..].trim_start();
    let mut rule = Rule::new();
    rule.set_action(action);
    for (dir, forward, direction) in [
        ("IN ", false, "in"),
        ("OUT ", false, "out"),
        ("FWD ", true, "in"),
    ] {
        if let Some(r) = rest.strip_prefix(dir) {
            rule.forward = forward;
            rule.direction = direction.into();
            rest = r.trim_start();
        }
    }
    // ` # comment` ends the row; ` (log)`, ` (log-all)`, ` (out)` come before it.
    let from = match rest.find(" # ") {
        Some(i) => &rest[..i],
        None if rest.ends_with('…') => return Err(unclear()),
        None => rest,
    };
    let mut from = from.trim();
    if let Some((before, attribs)) = from.rsplit_once(" (") {
        let attribs = attribs.strip_suffix(')').unwrap_or_default();
        let known: Vec<&str> = attribs.split(", ").collect();
        if !attribs.is_empty()
            && known
                .iter()
                .all(|a| matches!(*a, "log" | "log-all" | "out"))
        {
            for a in known {
                match a {
                    "out" => rule.direction = "out".into(),
                    log => rule.logtype = log.into(),
                }
            }
            from = before.trim();
        }
    }
    let to = side(to).ok_or_else(unclear)?;
    let from = side(from).ok_or_else(unclear)?;
    let Some(src) = from.addr.clone() else {
        return Err(unclear());
    };
    rule.src = src;
    if let Some(dst) = &to.addr {
        rule.dst = dst.clone();
    } else if rule.src.contains(':') {
        rule.dst = "::/0".into();
    }
    rule.dport = to.port.clone().unwrap_or_else(|| "any".into());
    rule.sport = from.port.clone().unwrap_or_else(|| "any".into());
    rule.dapp = to.app.clone().unwrap_or_default();
    rule.sapp = from.app.clone().unwrap_or_default();
    let protos: Vec<&String> = [&to.proto, &from.proto].into_iter().flatten().collect();
    if let Some(p) = protos.first() {
        if protos.iter().any(|q| q != p) {
            return Err(unclear());
        }
        rule.protocol = p.to_string();
    }
    // Interfaces: a routed rule shows its incoming one under From, its outgoing one under
    // To; any other rule the other way round.
    let (iface_in, iface_out) = if rule.forward {
        (from.iface, to.iface)
    } else {
        (to.iface, from.iface)
    };
    rule.iface_in = iface_in.unwrap_or_default();
    rule.iface_out = iface_out.unwrap_or_default();
    Ok(rule)
}

pub(super) fn lift(f: &Finding) -> Result<Vec<String>, String> {
    // The tuple says the rule exactly: first, whatever the order of the evidence.
    let tuples = own(f, &[Format::UfwRules]);
    let rows = own(f, &[Format::UfwStatus]);
    first_ok(
        tuples.chain(rows),
        |e| from(f, e),
        || format!("no ufw rule was read for {}", f.address_text()),
    )
}

fn from(f: &Finding, e: &Evidence) -> Result<Vec<String>, String> {
    let Some(text) = e.text.as_deref() else {
        return Err(
            "the ufw source does not give the rule: `ufw status numbered` numbers it, \
                    and `ufw delete NUM` deletes it"
                .to_string(),
        );
    };
    if text.trim_start().starts_with("ufw ") {
        return from_added(f, text);
    }
    let rule = if e.format == Format::UfwRules {
        from_tuple(text)?
    } else {
        from_row(text)?
    };
    if crate::addr::parse_net(rule.src.as_bytes()) != Some(f.address) {
        return Err(format!(
            "the ufw rule's source {} is not {}",
            rule.src,
            f.address_text()
        ));
    }
    let mut argv = vec!["ufw".to_string()];
    if rule.forward {
        argv.push("route".into());
    }
    argv.push("delete".into());
    for word in rule.command() {
        // ufw reads `--dry-run`, `--rootdir=...` wherever they stand.
        argv.push(name(&word, "the ufw rule word")?.to_string());
    }
    Ok(argv)
}

/// A line of `ufw show added`: the command that added the rule, in ufw's own words (its
/// `get_command`); the same words after `delete` delete it.
fn from_added(f: &Finding, text: &str) -> Result<Vec<String>, String> {
    let words = shell_words(text.trim().as_bytes())
        .ok_or_else(|| format!("the `ufw show added` line has an open quote: {text:?}"))?;
    let mut rest: &[String] = words.get(1..).unwrap_or_default();
    let mut argv = vec!["ufw".to_string()];
    if rest.first().is_some_and(|w| w == "route") {
        argv.push("route".into());
        rest = &rest[1..];
    }
    argv.push("delete".into());
    let mut it = rest.iter();
    let mut source = None;
    while let Some(word) = it.next() {
        match word.as_str() {
            // ufw matches a rule whatever its comment when none is given.
            "comment" => {
                it.next();
                continue;
            }
            "from" => source = it.clone().next().cloned(),
            _ => {}
        }
        argv.push(name(word, "the ufw rule word")?.to_string());
    }
    if source
        .as_deref()
        .and_then(|s| crate::addr::parse_net(s.as_bytes()))
        != Some(f.address)
    {
        return Err(format!(
            "the ufw rule {text:?} is not from {}",
            f.address_text()
        ));
    }
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::{from_row, from_tuple};
    use crate::lift::tests::{evidence, with};
    use crate::report::Authority;
    use crate::{Format, Tool};

    fn command(rule: super::Rule) -> String {
        rule.command().join(" ")
    }

    #[test]
    fn tuples_give_ufws_own_words() {
        for (tuple, words) in [
            (
                "### tuple ### deny any any 0.0.0.0/0 any 104.16.0.0/13 in",
                "deny from 104.16.0.0/13",
            ),
            (
                "### tuple ### deny_log any any 0.0.0.0/0 any 190.93.240.7 in",
                "deny log from 190.93.240.7",
            ),
            (
                "### tuple ### deny tcp 80 0.0.0.0/0 any 198.41.128.0/17 in_eth0",
                "deny in on eth0 from 198.41.128.0/17 to any port 80 proto tcp",
            ),
            (
                "### tuple ### reject tcp 80,443 0.0.0.0/0 any 131.0.72.0/22 WWW%20Full - in comment=65646765",
                "reject from 131.0.72.0/22 to any app WWW Full",
            ),
            (
                "### tuple ### route:deny tcp 8080 10.0.0.5 any 141.101.64.0/18 in",
                "deny from 141.101.64.0/18 to 10.0.0.5 port 8080 proto tcp",
            ),
            (
                "### tuple ### route:reject any any 0.0.0.0/0 any 172.64.0.0/13 in_eth0!out_eth1",
                "reject in on eth0 out on eth1 from 172.64.0.0/13",
            ),
            (
                "### tuple ### deny udp any 0.0.0.0/0 53 2606:4700::/32 in",
                "deny from 2606:4700::/32 port 53 proto udp",
            ),
            // ufw 0.29's tuples: no direction.
            (
                "### tuple ### deny any any 0.0.0.0/0 any 162.158.0.0/15",
                "deny from 162.158.0.0/15",
            ),
        ] {
            assert_eq!(command(from_tuple(tuple).unwrap()), words, "{tuple}");
        }
        assert!(from_tuple("### tuple ### deny any").is_err());
        assert!(from_tuple("### tuple ### deny any any 0.0.0.0/0 any 1.2.3.4 sideways").is_err());
    }

    #[test]
    fn status_rows_give_the_same_words() {
        for (row, words) in [
            (
                "Anywhere                   DENY IN     104.16.0.0/13",
                "deny from 104.16.0.0/13",
            ),
            (
                "Anywhere                   DENY        190.93.240.7               (log)",
                "deny log from 190.93.240.7",
            ),
            (
                "80/tcp on eth0             DENY IN     198.41.128.0/17           ",
                "deny in on eth0 from 198.41.128.0/17 to any port 80 proto tcp",
            ),
            (
                "[ 7] 80,443/tcp (WWW Full)      REJECT IN   131.0.72.0/22              # edge",
                "reject from 131.0.72.0/22 to any app WWW Full",
            ),
            (
                "WWW Full                   REJECT      131.0.72.0/22              # edge",
                "reject from 131.0.72.0/22 to any app WWW Full",
            ),
            (
                "10.0.0.5 8080/tcp          DENY FWD    141.101.64.0/18           ",
                "deny from 141.101.64.0/18 to 10.0.0.5 port 8080 proto tcp",
            ),
            (
                "Anywhere on eth1           REJECT FWD  172.64.0.0/13 on eth0",
                "reject in on eth0 out on eth1 from 172.64.0.0/13",
            ),
            (
                "Anywhere (v6)              REJECT IN   2606:4700:3108::ac42:2b08  # by Fail2Ban after 5 attempts against sshd",
                "reject from 2606:4700:3108::ac42:2b08",
            ),
            (
                "Anywhere                   DENY IN     104.16.0.1/tcp",
                "deny from 104.16.0.1 proto tcp",
            ),
            (
                "Anywhere                   DENY IN     2606:4700::/32/udp",
                "deny from 2606:4700::/32 proto udp",
            ),
            (
                "104.24.0.1                 DENY OUT    104.16.0.1                 (out)",
                "deny out from 104.16.0.1 to 104.24.0.1",
            ),
        ] {
            assert_eq!(command(from_row(row).unwrap()), words, "{row}");
        }
        assert!(from_row("Anywhere                   DENY IN     ").is_err());
    }

    #[test]
    fn the_command_is_ufw_delete_and_a_route_rule_route_delete() {
        let e = evidence(
            Format::UfwRules,
            Authority::Saved,
            "/etc/ufw/user.rules",
            43,
            None,
            Some("### tuple ### route:deny tcp 8080 10.0.0.5 any 141.101.64.0/18 in"),
        );
        assert_eq!(
            with(
                "141.101.64.0/18",
                Tool::Ufw,
                "route deny 10.0.0.5 8080/tcp",
                e
            )
            .lift()
            .unwrap(),
            [
                "ufw",
                "route",
                "delete",
                "deny",
                "from",
                "141.101.64.0/18",
                "to",
                "10.0.0.5",
                "port",
                "8080",
                "proto",
                "tcp"
            ]
        );
        // The tuple first, whatever the order of the evidence.
        let mut f = with(
            "131.0.72.0/22",
            Tool::Ufw,
            "edge",
            evidence(
                Format::UfwStatus,
                Authority::Live,
                "live: ufw status verbose",
                5,
                None,
                Some("Anywhere                   REJECT IN   131.0.72.0/22 on eth0 on eth1"),
            ),
        );
        assert!(f.lift().is_err());
        f.evidence.push(evidence(
            Format::UfwRules,
            Authority::Saved,
            "/etc/ufw/user.rules",
            61,
            None,
            Some("### tuple ### reject tcp 80,443 0.0.0.0/0 any 131.0.72.0/22 WWW%20Full - in comment=65646765"),
        ));
        assert_eq!(
            f.lift().unwrap().join(" "),
            "ufw delete reject from 131.0.72.0/22 to any app WWW Full"
        );
    }

    #[test]
    fn show_added_lines_are_the_words_to_delete() {
        let lift = |address: &str, line: &str| {
            let e = evidence(
                Format::UfwStatus,
                Authority::Saved,
                "added.txt",
                3,
                None,
                Some(line),
            );
            with(address, Tool::Ufw, "x", e).lift()
        };
        assert_eq!(
            lift(
                "172.64.155.20",
                "ufw reject from 172.64.155.20 comment 'by Fail2Ban after 3 attempts against nginx-http-auth'"
            )
            .unwrap(),
            ["ufw", "delete", "reject", "from", "172.64.155.20"]
        );
        assert_eq!(
            lift(
                "141.101.64.0/18",
                "ufw route deny from 141.101.64.0/18 to 10.0.0.5 port 8080 proto tcp"
            )
            .unwrap()
            .join(" "),
            "ufw route delete deny from 141.101.64.0/18 to 10.0.0.5 port 8080 proto tcp"
        );
        assert!(lift("104.16.0.1", "ufw deny from 104.16.0.2").is_err());
    }

    #[test]
    fn words_ufw_would_read_as_options_give_none() {
        let e = evidence(
            Format::UfwRules,
            Authority::Saved,
            "/etc/ufw/user.rules",
            1,
            None,
            Some("### tuple ### deny tcp 80 0.0.0.0/0 any 104.16.0.1 --dry-run - in"),
        );
        let why = with("104.16.0.1", Tool::Ufw, "deny", e).lift().unwrap_err();
        assert!(why.contains("cannot be passed safely"), "{why}");
    }
}
