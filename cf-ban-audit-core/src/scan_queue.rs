//! The order in which a scan reads its files, and the kernel's reading ahead of that order.
//!
//! With more than one thread the largest files go first, so that the last ones are small and
//! no thread waits long at the end for another to finish a large file; one thread keeps the
//! path order. Each thread takes the next file from one shared index, so the files start in
//! queue order, and a helper thread knows how far the readers are: it asks the kernel
//! (`posix_fadvise(POSIX_FADV_WILLNEED)`) to read the files up to [`READ_AHEAD`] bytes beyond
//! the last one started. On a cold page cache a thread that starts a file then finds it in
//! memory, or on its way, instead of waiting for the disk at the start of every file while
//! the disk has nothing else to do. On a warm cache the advice only finds the pages there, at
//! a system call per 256 KiB.
//!
//! The advice only reads: nothing is written to a scanned file. Only regular files are opened
//! for it, and without waiting (`O_NONBLOCK`: a file replaced by a FIFO since the walk cannot
//! hold the helper up). A file the helper cannot open or advise is simply not read ahead; its
//! reader reports what goes wrong.

use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// How far, in bytes, the files asked for run ahead of the last file a thread has started.
const READ_AHEAD: u64 = 128 * 1024 * 1024;

/// The scan's files in the order they are read, shared by its threads.
pub(crate) struct Queue<'a> {
    /// The files, each with its size when queued (0 for what is not a regular file: it is
    /// not read ahead).
    files: Vec<(&'a Path, u64)>,
    /// How many files the threads have taken.
    next: AtomicUsize,
    /// Set when every file has been read: the helper stops.
    finished: AtomicBool,
    /// How far the advice runs ahead ([`READ_AHEAD`]).
    ahead: u64,
}

impl<'a> Queue<'a> {
    /// Queues `files`, largest first if `largest_first`, else in the order given.
    pub(crate) fn new(files: &'a [PathBuf], largest_first: bool) -> Self {
        let mut files: Vec<(&Path, u64)> = files
            .iter()
            .map(|path| {
                let size = std::fs::metadata(path)
                    .ok()
                    .filter(std::fs::Metadata::is_file)
                    .map_or(0, |m| m.len());
                (path.as_path(), size)
            })
            .collect();
        if largest_first {
            // Stable: files of one size stay in path order.
            files.sort_by_key(|&(_, size)| std::cmp::Reverse(size));
        }
        Queue {
            files,
            next: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
            ahead: READ_AHEAD,
        }
    }

    /// Runs `work` on `threads` threads of the current rayon pool, each with its own
    /// iterator over the files it takes from the queue, while a helper thread reads ahead;
    /// returns when every file has been taken and every `work` has returned.
    pub(crate) fn run(
        &self,
        threads: usize,
        work: impl Fn(&mut dyn Iterator<Item = &'a Path>) + Sync,
    ) {
        std::thread::scope(|scope| {
            let helper = scope.spawn(|| self.read_ahead());
            let wake = || helper.thread().unpark();
            // The helper stops when the readers are done, even if one of them panics.
            let _stop = Stop {
                finished: &self.finished,
                helper: helper.thread(),
            };
            rayon::scope(|pool| {
                for _ in 0..threads.max(1) {
                    pool.spawn(|_| {
                        work(&mut std::iter::from_fn(|| {
                            let path = self.take();
                            wake();
                            path
                        }))
                    });
                }
            });
        });
    }

    /// The next file to read, if any is left.
    fn take(&self) -> Option<&'a Path> {
        let i = self.next.fetch_add(1, Ordering::AcqRel);
        self.files.get(i).map(|&(path, _)| path)
    }

    /// Advises the kernel to read each file once the readers are close enough to it, in queue
    /// order; stops when the readers are done.
    fn read_ahead(&self) {
        // Bytes of the files before the one being advised.
        let mut before = 0u64;
        let mut started_end = 0u64;
        let mut started = 0usize;
        for &(path, size) in &self.files {
            loop {
                if self.finished.load(Ordering::Acquire) {
                    return;
                }
                // Bytes of the files the readers have taken.
                let taken = self.next.load(Ordering::Acquire).min(self.files.len());
                while started < taken {
                    started_end += self.files[started].1;
                    started += 1;
                }
                if before < started_end + self.ahead {
                    break;
                }
                // A reader taking a file wakes the helper; the timeout is only a backstop.
                std::thread::park_timeout(Duration::from_millis(100));
            }
            if let Some(len) = NonZeroU64::new(size.min(self.ahead)) {
                advise(path, len);
            }
            before += size;
        }
    }
}

/// Tells the helper, when dropped, that the readers are done, and wakes it.
struct Stop<'q> {
    finished: &'q AtomicBool,
    helper: &'q std::thread::Thread,
}

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.finished.store(true, Ordering::Release);
        self.helper.unpark();
    }
}

/// Asks the kernel to read the first `len` bytes of the regular file at `path`.
///
/// Linux reads at most the file's read-ahead window (`read_ahead_kb`, 128 KiB by default,
/// doubled by `POSIX_FADV_SEQUENTIAL`) for each `POSIX_FADV_WILLNEED`, whatever length it is
/// given, so the advice goes in steps of [`ADVICE_STEP`]. On a warm cache each step only
/// finds its pages there. (Testing first whether a file is in memory made cold scans slower,
/// both with a read of a byte that may not wait, which starts a read of its own when the byte
/// is not there, and with `mincore`.)
fn advise(path: &Path, len: NonZeroU64) {
    use rustix::fs::{fadvise, Advice, OFlags};
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(path)
    else {
        return;
    };
    let _ = fadvise(&file, 0, None, Advice::Sequential);
    let len = len.get();
    let mut at = 0;
    while at < len {
        let step = NonZeroU64::new(ADVICE_STEP.min(len - at));
        if fadvise(&file, at, step, Advice::WillNeed).is_err() {
            return;
        }
        at += ADVICE_STEP;
    }
}

/// The bytes asked for by each advice: twice Linux's default read-ahead window, which
/// `POSIX_FADV_SEQUENTIAL` makes the window.
const ADVICE_STEP: u64 = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn every_file_is_read_once_largest_first_on_one_thread() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = [("a", 3), ("b", 10), ("c", 1), ("d", 10)]
            .iter()
            .map(|&(name, size)| {
                let path = dir.path().join(name);
                std::fs::write(&path, vec![b'x'; size]).unwrap();
                path
            })
            .collect();
        let order = |largest_first: bool, threads: usize| {
            let queue = Queue::new(&files, largest_first);
            let seen = Mutex::new(Vec::new());
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                queue.run(threads, |files| {
                    for p in files {
                        let name = p.file_name().unwrap().to_string_lossy().into_owned();
                        seen.lock().unwrap().push(name);
                    }
                })
            });
            seen.into_inner().unwrap()
        };
        // One thread takes them in queue order: by size, ties in path order.
        assert_eq!(order(true, 1), ["b", "d", "a", "c"]);
        assert_eq!(order(false, 1), ["a", "b", "c", "d"]);
        let mut parallel = order(true, 3);
        parallel.sort();
        assert_eq!(parallel, ["a", "b", "c", "d"]);
    }

    #[test]
    fn a_reader_that_panics_stops_the_helper() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = (0..4)
            .map(|i| {
                let path = dir.path().join(i.to_string());
                std::fs::write(&path, b"0123456789").unwrap();
                path
            })
            .collect();
        let mut queue = Queue::new(&files, false);
        // The helper waits after the first file until a reader takes more.
        queue.ahead = 1;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            queue.run(1, |files| {
                files.next();
                panic!("a reader's bug");
            })
        }));
        assert!(run.is_err());
    }

    #[test]
    fn a_file_replaced_by_a_fifo_does_not_hold_the_helper_up() {
        use rustix::fs::{mknodat, FileType, Mode, CWD};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fail2ban.log");
        std::fs::write(&path, b"queued as a regular file").unwrap();
        let files = vec![path.clone()];
        let queue = Queue::new(&files, false);
        std::fs::remove_file(&path).unwrap();
        mknodat(CWD, &path, FileType::Fifo, Mode::RUSR | Mode::WUSR, 0).unwrap();
        // Opening the FIFO to read would wait for a writer; the helper must not.
        queue.run(1, |files| {
            assert_eq!(files.count(), 1);
        });
    }

    #[test]
    fn what_is_not_a_regular_file_is_queued_but_not_read_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![dir.path().to_path_buf(), dir.path().join("missing")];
        let queue = Queue::new(&files, true);
        assert!(queue.files.iter().all(|&(_, size)| size == 0));
        let seen = AtomicUsize::new(0);
        queue.run(2, |files| {
            seen.fetch_add(files.count(), Ordering::Relaxed);
        });
        assert_eq!(seen.into_inner(), 2);
    }
}
