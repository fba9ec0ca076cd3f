#!/usr/bin/env python3
"""Fails when libwampbox exports a symbol outside the public API.

Usage: check_exports.py LIBRARY [--list]

The library is built with -fvisibility=hidden and exports what WAMPBOX_API marks. This check
reads the dynamic symbol table (nm -D) and demangles it (c++filt). Every exported symbol must
belong to namespace wampbox but not to wampbox::detail, except the process-wide state Boost
keeps in template statics (SHARED_STATE, see lib/libwampbox.map); any other Boost, nlohmann,
simdjson, std or detail symbol in the table fails the test, with the offenders listed. Prints
the number of exported symbols.
"""
import re
import subprocess
import sys

# Prefixes the demangler puts before an entity's name.
SPECIAL = re.compile(r'^(typeinfo name for|typeinfo for|vtable for|VTT for|construction vtable for'
                     r'|guard variable for|non-virtual thunk to|virtual thunk to'
                     r'|covariant return thunk to|TLS init function for|TLS wrapper function for) ')

# Boost state that must be one copy per process, shared by the library and the application
# (both instantiate Asio for the same io_context): the thread's Asio call stack, service ids,
# error categories (compared by address). Data only: no Boost function is exported.
SHARED_STATE = re.compile(
    r'^(guard variable for )?('
    r'boost::asio::detail::call_stack<.*>::top_'
    r'|boost::asio::detail::keyword_tss_ptr<.*>::value_'
    r'|boost::asio::detail::execution_context_service_base<.*>::id'
    r'|boost::beast::detail::service_base<.*>::id'
    r'|boost::asio::error::get_\w+_category\(\)::instance'
    r'|boost::system::detail::\w+_cat_holder<void>::instance'
    r'|boost::system::detail::stdcat_mx_holder<void>::mx_'
    r'|boost::beast::(\w+::)?make_error_co\w+\(boost::beast::(\w+::)?\w+\)::cat'
    r')$')


def entity(demangled):
    """The qualified name an exported symbol belongs to: without the special prefix, the return
    type of a template function, and the parameter list."""
    name = SPECIAL.sub('', demangled)
    depth = 0
    start = 0
    for i, c in enumerate(name):
        if c in '<(':
            if c == '(' and depth == 0:
                return name[start:i]
            depth += 1
        elif c in '>)':
            depth -= 1
        elif c == ' ' and depth == 0:
            start = i + 1  # a return type ends here ("std::string wampbox::f<int>(...)")
    return name[start:]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    library = sys.argv[1]
    out = subprocess.run(['nm', '-D', '--defined-only', '--format=posix', library],
                         check=True, capture_output=True, text=True).stdout
    mangled = [line.split()[0] for line in out.splitlines() if line.strip()]
    demangled = subprocess.run(['c++filt'], input='\n'.join(mangled), check=True,
                               capture_output=True, text=True).stdout.splitlines()
    bad = []
    for raw, name in zip(mangled, demangled):
        owner = entity(name)
        public = owner.startswith('wampbox::') and not owner.startswith('wampbox::detail::')
        if not public and not SHARED_STATE.match(name):
            bad.append(f'{owner}    [{name}]')
    print(f'{library}: {len(mangled)} exported symbols')
    if '--list' in sys.argv:
        print('\n'.join(demangled))
    if bad:
        print(f'{len(bad)} exported symbols outside the public API (wampbox::, not detail):')
        print('\n'.join(sorted(bad)))
        sys.exit(1)


if __name__ == '__main__':
    main()
