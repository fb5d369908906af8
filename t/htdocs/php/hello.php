<?php
// SPDX-License-Identifier: Apache-2.0
// t/php.t: PHP answers from the same prefork children as mod_plaid_link.
header("Content-Type: text/plain");
echo "php ", PHP_VERSION, " sapi=", php_sapi_name(), " json=",
    json_encode(["ok" => true]), "\n";
