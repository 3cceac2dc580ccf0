//! Files of a tree that someone else writes (a worktree: its agent, the repository's authors),
//! opened so that nothing put there reaches past it or stalls ff. Every path is resolved by the
//! kernel beneath the tree's directory (`openat2` with `RESOLVE_BENEATH`), so a symlink or `..`
//! leading out is refused at every step, also one swapped in after a check. Files are opened
//! without blocking and read only when the open handle is a regular file, so a FIFO or device
//! put in a file's place cannot hold the reader; and never beyond a cap, so a file that grows
//! while read cannot either.

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{Mode, SFlag};
use std::fmt;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// An open directory that paths are resolved beneath.
pub struct Tree(OwnedFd);

/// Why a file of the tree was not read.
#[derive(Debug)]
pub enum ReadError {
    /// The path, or a link on its way, leads out of the tree.
    Outside,
    /// Symbolic links that lead to each other, or too many in a row.
    LinkLoop,
    Missing,
    /// A directory, FIFO, socket or device.
    NotRegular,
    /// `size` is unknown when the file grew past the cap while read.
    TooLarge {
        size: Option<u64>,
        cap: u64,
    },
    /// A file someone else links to as well: writing it would change that file too.
    Shared,
    Other(Errno),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Outside => f.write_str("it leads outside the worktree"),
            Self::LinkLoop => f.write_str("it is a loop of symbolic links"),
            Self::Missing => f.write_str("it does not exist"),
            Self::NotRegular => f.write_str("it is not a regular file"),
            Self::TooLarge {
                size: Some(size),
                cap,
            } => write!(f, "it is {size} bytes; files over {cap} bytes are not read"),
            Self::TooLarge { size: None, cap } => {
                write!(
                    f,
                    "it grew past {cap} bytes while read; larger files are not read"
                )
            }
            Self::Shared => f.write_str(
                "it has other hard links, and writing it would change them too; ff writes only \
                 files with one link",
            ),
            Self::Other(Errno::EAGAIN) => f.write_str("the file system was busy; try again"),
            Self::Other(e) => f.write_str(e.desc()),
        }
    }
}

impl From<Errno> for ReadError {
    fn from(e: Errno) -> Self {
        match e {
            Errno::EXDEV => Self::Outside,
            Errno::ELOOP => Self::LinkLoop,
            Errno::ENOENT => Self::Missing,
            // Opening a FIFO for writing without a reader, or a device that is not there.
            Errno::ENXIO => Self::NotRegular,
            other => Self::Other(other),
        }
    }
}

impl Tree {
    pub fn open(root: &Path) -> Result<Self, Errno> {
        nix::fcntl::open(
            root,
            OFlag::O_DIRECTORY | OFlag::O_PATH | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map(Self)
    }

    /// Opens `relative` beneath the tree: every step of its resolution, symlinks included, must
    /// stay below it, or the kernel refuses (EXDEV). An empty path is the tree itself.
    pub fn open_at(&self, relative: &Path, flags: OFlag, mode: Mode) -> Result<OwnedFd, Errno> {
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC)
            .mode(mode)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        // With RESOLVE_BENEATH the kernel answers EAGAIN when a rename anywhere races a `..`
        // on the path; it asks callers to try again.
        let mut tries = 0;
        loop {
            match nix::fcntl::openat2(&self.0, relative, how) {
                Err(Errno::EAGAIN) if tries < 3 => tries += 1,
                done => return done,
            }
        }
    }

    /// Opens `relative` to write it (created with mode 0644 when missing, truncated otherwise),
    /// refusing anything but a regular file.
    pub fn create(&self, relative: &Path) -> Result<std::fs::File, ReadError> {
        let fd = self.open_at(
            relative,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
            Mode::from_bits_truncate(0o644),
        )?;
        let file = regular(fd)?;
        if file.metadata().map_err(io_errno)?.nlink() > 1 {
            return Err(ReadError::Shared);
        }
        file.set_len(0).map_err(io_errno)?;
        Ok(file)
    }

    /// Where the symbolic link at `relative` points, as written in it; `None` when something
    /// else is there. Only the folders on its way are resolved (beneath the tree), not the link.
    pub fn link_target(&self, relative: &Path) -> Result<Option<PathBuf>, ReadError> {
        let (Some(name), parent) = (relative.file_name(), relative.parent()) else {
            return Ok(None);
        };
        let parent = self.open_at(
            parent.unwrap_or(Path::new("")),
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            Mode::empty(),
        )?;
        let stat = nix::sys::stat::fstatat(&parent, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != SFlag::S_IFLNK {
            return Ok(None);
        }
        Ok(Some(nix::fcntl::readlinkat(&parent, name)?.into()))
    }

    /// The whole content of the regular file at `relative`, when it is at most `cap` bytes.
    pub fn read(&self, relative: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
        let fd = self.open_at(relative, flags, Mode::empty())?;
        let file = regular(fd)?;
        let size = file.metadata().map_err(io_errno)?.len();
        if size > cap {
            return Err(ReadError::TooLarge {
                size: Some(size),
                cap,
            });
        }
        let mut content = Vec::with_capacity(size as usize);
        file.take(cap + 1)
            .read_to_end(&mut content)
            .map_err(io_errno)?;
        match content.len() as u64 {
            read if read > cap => Err(ReadError::TooLarge { size: None, cap }),
            _ => Ok(content),
        }
    }
}

/// The open handle as a file, when it is a regular one: what it is now, not what a path named a
/// moment ago.
fn regular(fd: OwnedFd) -> Result<std::fs::File, ReadError> {
    let file = std::fs::File::from(fd);
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok(file),
        Ok(_) => Err(ReadError::NotRegular),
        Err(e) => Err(io_errno(e)),
    }
}

fn io_errno(e: std::io::Error) -> ReadError {
    e.raw_os_error()
        .map_or(ReadError::Other(Errno::EIO), |n| Errno::from_raw(n).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::Duration;

    /// Runs `work` on a thread and fails instead of hanging when it blocks.
    fn without_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(work()));
        result
            .recv_timeout(Duration::from_secs(5))
            .expect("the read blocked")
    }

    #[test]
    fn only_regular_files_inside_the_tree_are_read_and_never_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn a() {}\n").unwrap();
        std::fs::write(dir.path().join("secret"), "outside").unwrap();
        symlink(dir.path().join("secret"), root.join("out")).unwrap();
        symlink("/dev/zero", root.join("zero")).unwrap();
        symlink(&dir, root.join("up")).unwrap();
        symlink("src/a.rs", root.join("alias")).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        std::fs::write(root.join("big"), vec![b'x'; 100]).unwrap();

        let tree = Tree::open(&root).unwrap();
        let read = |path: &str, cap: u64| tree.read(Path::new(path), cap);
        assert_eq!(read("src/a.rs", 1024).unwrap(), b"fn a() {}\n");
        assert_eq!(read("alias", 1024).unwrap(), b"fn a() {}\n");
        assert_eq!(
            tree.link_target(Path::new("out")).unwrap(),
            Some(dir.path().join("secret"))
        );
        assert_eq!(tree.link_target(Path::new("src/a.rs")).unwrap(), None);
        assert!(matches!(
            tree.link_target(Path::new("up/secret")),
            Err(ReadError::Outside)
        ));
        assert_eq!(read("big", 100).unwrap().len(), 100);
        for outside in ["out", "zero", "up/secret", "../secret", "/etc/passwd"] {
            assert!(
                matches!(read(outside, 1024), Err(ReadError::Outside)),
                "{outside}: {:?}",
                read(outside, 1024)
            );
        }
        assert!(matches!(read("missing", 1024), Err(ReadError::Missing)));
        assert!(matches!(read("src", 1024), Err(ReadError::NotRegular)));
        assert!(matches!(
            read("big", 99),
            Err(ReadError::TooLarge {
                size: Some(100),
                cap: 99
            })
        ));
        symlink("loop", root.join("loop")).unwrap();
        assert!(matches!(read("loop", 1024), Err(ReadError::LinkLoop)));
        let fifo = without_blocking(move || Tree::open(&root).unwrap().read(Path::new("fifo"), 10));
        assert!(matches!(fifo, Err(ReadError::NotRegular)), "{fifo:?}");
    }

    #[test]
    fn a_fifo_is_never_opened_for_writing_and_a_link_out_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(&root).unwrap();
        nix::unistd::mkfifo(&root.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        symlink(dir.path().join("made"), root.join("dangling")).unwrap();
        std::fs::write(root.join("kept"), "old content").unwrap();

        let fifo = {
            let root = root.clone();
            without_blocking(move || Tree::open(&root).unwrap().create(Path::new("fifo")).err())
        };
        assert!(matches!(fifo, Some(ReadError::NotRegular)), "{fifo:?}");
        let tree = Tree::open(&root).unwrap();
        assert!(matches!(
            tree.create(Path::new("dangling")),
            Err(ReadError::Outside)
        ));
        assert!(!dir.path().join("made").exists());
        std::io::Write::write_all(&mut tree.create(Path::new("kept")).unwrap(), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("kept")).unwrap(), "new");
        // A hard link to a file outside: RESOLVE_BENEATH cannot see where else it is.
        std::fs::write(dir.path().join("bashrc"), "mine").unwrap();
        std::fs::hard_link(dir.path().join("bashrc"), root.join("linked")).unwrap();
        assert!(matches!(
            tree.create(Path::new("linked")),
            Err(ReadError::Shared)
        ));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("bashrc")).unwrap(),
            "mine"
        );
    }
}
