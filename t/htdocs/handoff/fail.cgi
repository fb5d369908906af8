#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# An application behind PlaidExchangeHandoff that fails before any header
# (t/handoff.t): httpd answers 500, through the ErrorDocument.
exit 1;
