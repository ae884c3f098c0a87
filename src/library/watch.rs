//! Watching the library folders for changes (inotify and friends, through `notify`): any
//! change that could concern an audio file wakes the scanner. The scanner itself compares the
//! disk with the store, so an event only has to say "look again", never what changed.
use super::walk::is_audio;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};

/// Keeps the watches alive; dropping it stops them.
pub struct LibraryWatcher {
    _inner: RecommendedWatcher,
}

/// Watches `roots` recursively and calls `wake` for every relevant change. Paths under
/// `ignore` (the data dir, whose database changes all the time) are not relevant. A root that
/// cannot be watched is logged; the periodic rescan still covers it.
pub fn watch(
    roots: &[PathBuf],
    ignore: PathBuf,
    wake: impl Fn() + Send + 'static,
) -> Option<LibraryWatcher> {
    let handler = move |event: notify::Result<notify::Event>| match event {
        Ok(event) if relevant(&event, &ignore) => wake(),
        Ok(_) => {}
        // Lost events (a queue overflow): look at everything again.
        Err(e) => {
            tracing::debug!("library watch: {e}");
            wake();
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("cannot watch the library for changes ({e}); rescanning periodically");
            return None;
        }
    };
    for root in roots {
        if let Err(e) = watcher.watch(root, RecursiveMode::Recursive) {
            tracing::warn!(
                "cannot watch {} for changes ({e}); rescanning it periodically",
                root.display()
            );
        }
    }
    Some(LibraryWatcher { _inner: watcher })
}

/// Whether an event can change what the scanner finds: a change to an audio file, or to
/// something without an extension (a folder moved in, out or away); reads are not changes.
fn relevant(event: &notify::Event, ignore: &Path) -> bool {
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    if event.need_rescan() {
        return true;
    }
    event.paths.iter().any(|p| {
        !p.starts_with(ignore)
            && !p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            && (is_audio(p) || p.extension().is_none())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind, RemoveKind};

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn audio_files_and_folders_matter_the_rest_does_not() {
        let data = Path::new("/music/.drift");
        let create = EventKind::Create(CreateKind::File);
        assert!(relevant(&event(create, "/music/a/new.flac"), data));
        assert!(relevant(
            &event(EventKind::Remove(RemoveKind::Any), "/music/Old Album"),
            data
        ));
        assert!(relevant(
            &event(EventKind::Modify(ModifyKind::Any), "/music/x.MP3"),
            data
        ));
        assert!(!relevant(&event(create, "/music/cover.jpg"), data));
        assert!(!relevant(&event(create, "/music/._x.mp3"), data));
        assert!(!relevant(&event(create, "/music/.drift/drift"), data));
        assert!(!relevant(
            &event(EventKind::Access(AccessKind::Any), "/music/a.flac"),
            data
        ));
    }
}
