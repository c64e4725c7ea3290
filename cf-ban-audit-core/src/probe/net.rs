//! The TCP step: connect to the origin as an edge would, from a given source address when
//! asked, and tell a refusal (RST: 521), silence (522) and no route (523) apart.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// How the connection attempt ended.
#[derive(Debug)]
pub enum Connect {
    /// Established: the stream, the time it took and the local address used.
    Connected(TcpStream, Duration, Option<SocketAddr>),
    /// Refused (an RST, or an ICMP port unreachable from a REJECT rule).
    Refused(Duration),
    /// No answer within the timeout (a DROP rule, a dead host, a full SYN queue).
    TimedOut,
    /// No route to the origin (host or network unreachable), with the system's words.
    Unreachable(Duration, String),
}

/// Why the probe could not even try.
#[derive(Debug)]
pub enum SetupError {
    /// The source address could not be bound.
    Bind(io::Error),
    /// Any other failure of the local system (socket creation, a local policy refusal).
    Other(io::Error),
}

/// Connects to `to`, binding `from` (port chosen by the system) when given.
pub fn connect(
    to: SocketAddr,
    from: Option<IpAddr>,
    timeout: Duration,
) -> Result<Connect, SetupError> {
    let socket = Socket::new(Domain::for_address(to), Type::STREAM, Some(Protocol::TCP))
        .map_err(SetupError::Other)?;
    if let Some(ip) = from {
        socket
            .bind(&SockAddr::from(SocketAddr::new(ip, 0)))
            .map_err(SetupError::Bind)?;
    }
    let start = Instant::now();
    match socket.connect_timeout(&SockAddr::from(to), timeout) {
        Ok(()) => {
            let elapsed = start.elapsed();
            let local = socket.local_addr().ok().and_then(|a| a.as_socket());
            Ok(Connect::Connected(socket.into(), elapsed, local))
        }
        Err(e) => classify(e, start.elapsed()),
    }
}

/// Sorts a failed connect.
fn classify(e: io::Error, elapsed: Duration) -> Result<Connect, SetupError> {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Ok(Connect::Refused(elapsed)),
        K::TimedOut | K::WouldBlock => Ok(Connect::TimedOut),
        K::HostUnreachable | K::NetworkUnreachable => {
            Ok(Connect::Unreachable(elapsed, e.to_string()))
        }
        _ => Err(SetupError::Other(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_port_is_refused() {
        // Bind a port, then close it: nothing listens there any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let to = SocketAddr::from(([127, 0, 0, 1], port));
        match connect(to, None, Duration::from_secs(2)) {
            Ok(Connect::Refused(_)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_listener_connects_from_the_given_source() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let to = listener.local_addr().unwrap();
        let from = IpAddr::from([127, 0, 0, 1]);
        match connect(to, Some(from), Duration::from_secs(2)) {
            Ok(Connect::Connected(_, _, Some(local))) => assert_eq!(local.ip(), from),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_address_not_on_this_host_cannot_be_bound() {
        let to = SocketAddr::from(([127, 0, 0, 1], 9));
        let from = IpAddr::from([192, 0, 2, 77]);
        assert!(matches!(
            connect(to, Some(from), Duration::from_secs(1)),
            Err(SetupError::Bind(_))
        ));
    }

    #[test]
    fn errors_sort() {
        let e = |k| io::Error::from(k);
        let d = Duration::ZERO;
        assert!(matches!(
            classify(e(io::ErrorKind::ConnectionRefused), d),
            Ok(Connect::Refused(_))
        ));
        assert!(matches!(
            classify(e(io::ErrorKind::TimedOut), d),
            Ok(Connect::TimedOut)
        ));
        // EHOSTUNREACH and ENETUNREACH (Linux numbers).
        #[cfg(target_os = "linux")]
        assert!(matches!(
            classify(io::Error::from_raw_os_error(113), d),
            Ok(Connect::Unreachable(..))
        ));
        #[cfg(target_os = "linux")]
        assert!(matches!(
            classify(io::Error::from_raw_os_error(101), d),
            Ok(Connect::Unreachable(..))
        ));
        assert!(classify(e(io::ErrorKind::PermissionDenied), d).is_err());
    }
}
