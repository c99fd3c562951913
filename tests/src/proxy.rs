//! A TCP proxy on 127.0.0.1 in front of a database server, which counts the round trips its
//! clients make and can hold every chunk of bytes for a while in each direction, as a network
//! between client and server would.
//!
//! A round trip is counted each time the client speaks after the server last spoke: a
//! statement sent with its parameters in one write and answered is one, whatever the number
//! of packets either way.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A running proxy; it serves until the process ends.
pub struct Proxy {
    port: u16,
    round_trips: Arc<AtomicUsize>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream`
    /// (`host:port`), each chunk held `one_way` before it is passed on.
    pub fn start(upstream: &str, one_way: Duration) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let round_trips = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&round_trips);
        let upstream = upstream.to_owned();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = connect(client, server, one_way, Arc::clone(&counter));
            }
        });
        Ok(Proxy { port, round_trips })
    }

    /// The port clients connect to, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The round trips of every connection so far.
    pub fn round_trips(&self) -> usize {
        self.round_trips.load(Ordering::SeqCst)
    }
}

/// Pipes both directions of one connection.
fn connect(
    client: TcpStream,
    server: TcpStream,
    one_way: Duration,
    round_trips: Arc<AtomicUsize>,
) -> io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    // Whether the server spoke since the client last did: the client's next bytes begin a
    // round trip.
    let answered = Arc::new(AtomicBool::new(true));
    let client_spoke = {
        let answered = Arc::clone(&answered);
        move || {
            if answered.swap(false, Ordering::SeqCst) {
                round_trips.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
    let server_spoke = move || answered.store(true, Ordering::SeqCst);
    pipe(
        client.try_clone()?,
        server.try_clone()?,
        one_way,
        client_spoke,
    );
    pipe(server, client, one_way, server_spoke);
    Ok(())
}

/// Copies `from` to `to` on two threads: one reads and stamps each chunk, the other writes
/// it once `one_way` has passed since it was read.
fn pipe(
    mut from: TcpStream,
    mut to: TcpStream,
    one_way: Duration,
    on_read: impl Fn() + Send + 'static,
) {
    let (chunks, held) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    on_read();
                    if chunks.send((Instant::now(), buffer[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    thread::spawn(move || {
        for (read_at, chunk) in held {
            let due = read_at + one_way;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
