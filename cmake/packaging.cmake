# Installation (`make install`, `cmake --install`) and the Debian package (`make deb`, CPack).
#
# What is installed, under the install prefix (/usr for the package, /usr/local by default):
#   bin/c10k                                 the server
#   lib/systemd/system/c10k.{service,socket} the systemd units (packaging/)
#   <sysconfdir>/c10k/c10k.toml              the service's settings: /etc with prefix /usr
#   share/c10k/site                          the demo site, served by that default config
#   share/man/man1/c10k.1.gz                 the man page, generated from the binary's --help
#   share/doc/c10k                           README.md and docs/OPERATIONS*.md
# The units and the config name installed paths, so they are written when installing, for the
# prefix of that installation (packaging/install-configured.cmake): `cmake --install --prefix P`,
# `make install PREFIX=P` and CPack (prefix /usr, whatever the build was configured with) all get
# files that point at each other.

include(GNUInstallDirs)

install(TARGETS c10k RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(CODE "
  set(C10K_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(C10K_STAGE_DIR \"${PROJECT_BINARY_DIR}/packaging\")
  set(C10K_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(C10K_DATADIR \"${CMAKE_INSTALL_DATADIR}\")")
install(SCRIPT "${PROJECT_SOURCE_DIR}/packaging/install-configured.cmake")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/examples/site/"
        DESTINATION ${CMAKE_INSTALL_DATADIR}/c10k/site)
file(GLOB C10K_DOCS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/README.md" "${PROJECT_SOURCE_DIR}/docs/OPERATIONS*.md")
install(FILES ${C10K_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The man page, from the built binary's --help (packaging/make-man.sh). Built with everything
# else, so that `make install` and the package always carry a page that matches the binary.
find_program(C10K_HELP2MAN help2man)
if(C10K_HELP2MAN)
  add_custom_command(
    OUTPUT "${PROJECT_BINARY_DIR}/c10k.1" "${PROJECT_BINARY_DIR}/c10k.1.gz"
    COMMAND "${PROJECT_SOURCE_DIR}/packaging/make-man.sh" "$<TARGET_FILE:c10k>"
            "${PROJECT_BINARY_DIR}/c10k.1" "${PROJECT_BINARY_DIR}/man"
    # Debian installs man pages compressed; -n leaves the time out, so equal pages are equal files.
    COMMAND gzip -9 -n -f -k "${PROJECT_BINARY_DIR}/c10k.1"
    DEPENDS c10k "${PROJECT_SOURCE_DIR}/packaging/make-man.sh"
            "${PROJECT_SOURCE_DIR}/packaging/c10k.h2m"
    COMMENT "Writing the man page c10k.1 from c10k's --help (help2man)"
    VERBATIM)
  add_custom_target(man ALL DEPENDS "${PROJECT_BINARY_DIR}/c10k.1" "${PROJECT_BINARY_DIR}/c10k.1.gz")
  # The packaging test (tests/integration/packaging_test.cpp) checks the page and packages it, so
  # builds of the integration suite alone (the sanitizer smoke runs) build it too.
  if(TARGET integration_tests)
    add_dependencies(integration_tests man)
  endif()
  install(FILES "${PROJECT_BINARY_DIR}/c10k.1.gz" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man page is built or installed "
                 "(scripts/install-deps.sh installs help2man; `make deb` needs it)")
endif()

# The Debian package: one binary package, c10k_<version>_<arch>.deb, in the build folder.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME c10k)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}")
# A Debian package installs under /usr, whatever prefix the build was configured for.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(C10K_DEB_MAINTAINER "c10k maintainers <c10k@localhost>"
    CACHE STRING "Maintainer field of the Debian package: NAME <EMAIL>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${C10K_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "HTTP server for very many concurrent clients, with live push")
# The long description, below the summary line, in lines under 80 columns; CPack indents it and
# marks the empty line.
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "c10k serves static files over HTTP/1.1, and live push over Server-Sent\n"
  "Events, long-poll and WebSocket, on a concurrency engine chosen at run time\n"
  "(epoll, io_uring, threads, processes...). It also holds a load generator and\n"
  "a harness that compares the engines with other servers.\n"
  "\n"
  "This package installs the server, a hardened systemd unit (not enabled), its\n"
  "configuration in /etc/c10k and a demo site.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: computed by dpkg-shlibdeps from the libraries the binary links (libc, liburing,
# libsystemd, hiredis...), as a Debian build would.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
# conffiles (the config survives upgrades and removal, and dpkg asks before replacing an edited
# one) and the maintainer scripts (systemd reload and stop; DynamicUser needs no user created).
set(C10K_DEBIAN_CONTROL "${PROJECT_BINARY_DIR}/packaging/debian")
file(WRITE "${C10K_DEBIAN_CONTROL}/conffiles" "/etc/c10k/c10k.toml\n")
foreach(script postinst prerm postrm)
  file(COPY "${PROJECT_SOURCE_DIR}/packaging/debian/${script}" DESTINATION "${C10K_DEBIAN_CONTROL}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                        WORLD_EXECUTE)
  set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               "${PROJECT_SOURCE_DIR}/packaging/debian/${script}")
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${C10K_DEBIAN_CONTROL}/conffiles" "${C10K_DEBIAN_CONTROL}/postinst"
    "${C10K_DEBIAN_CONTROL}/prerm" "${C10K_DEBIAN_CONTROL}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
