<?php
// SPDX-License-Identifier: Apache-2.0
// What PHP code on the same server can read of the process environment
// (t/shared_server.t): getenv() with no argument, $_SERVER/$_ENV, and the
// block the kernel shows in /proc/self/environ (readable by the child's own
// user when it is dumpable: CoreDumpDirectory).
header('Content-Type: text/plain');
foreach (getenv() as $k => $v) {
    echo "ENV $k=$v\n";
}
foreach ($_SERVER as $k => $v) {
    if (is_string($v)) {
        echo "SERVER $k=$v\n";
    }
}
foreach ($_ENV as $k => $v) {
    echo "_ENV $k=$v\n";
}
$block = @file_get_contents('/proc/self/environ');
if ($block === false) {
    echo "PROC_ENVIRON_UNREADABLE\n";
} else {
    foreach (explode("\0", $block) as $entry) {
        if ($entry !== '') {
            echo "PROC_ENVIRON $entry\n";
        }
    }
    echo "PROC_ENVIRON_READ ", strlen($block), " bytes\n";
}
