<?php
// What PHP code on the same server can read of the process environment
// (t/shared_server.t): getenv() with no argument, and $_SERVER/$_ENV.
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
