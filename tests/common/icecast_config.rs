//! The icecast2 config that the Icecast output's tests and `drift-bench` (which includes this
//! file by path: tests cannot import the bench crate, nor it the tests) both generate: one
//! server on 127.0.0.1:`port`, Icecast's defaults otherwise (64 KiB burst on connect, 512 KiB
//! queue per listener, ICY titles every 16,000 bytes).
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// An icecast2 config on `port` for `clients` listeners, with `password` as the source password
/// (and, with `-admin` after it, the admin password), `dir` as its base directory and `extra`
/// inside `<icecast>` (a `<relay>`, say).
pub fn icecast_config(port: u16, clients: u32, password: &str, dir: &Path, extra: &str) -> String {
    // Icecast refuses to run as root; it drops to `nobody` after reading this file and binding
    // its port. Its logs go to stderr (a file the caller opened), so `nobody` needs no access
    // to `dir`.
    let running_as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let security = if running_as_root {
        "<security><chroot>0</chroot><changeowner><user>nobody</user><group>nogroup</group></changeowner></security>"
    } else {
        "<security><chroot>0</chroot></security>"
    };
    let dir = dir.display();
    format!(
        r#"<icecast>
  <location>loopback</location>
  <admin>drift@localhost</admin>
  <limits>
    <clients>{clients}</clients>
    <sources>8</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>65535</burst-size>
  </limits>
  <authentication>
    <source-password>{password}</source-password>
    <admin-user>admin</admin-user>
    <admin-password>{password}-admin</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>{dir}</basedir>
    <logdir>{dir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging><accesslog>-</accesslog><errorlog>-</errorlog><loglevel>3</loglevel></logging>
  {security}
  {extra}
</icecast>
"#
    )
}
