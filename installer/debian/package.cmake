# The Debian package, built by CPack from this tree (`cpack -G DEB` in the build folder;
# scripts/package-deb.sh builds and inspects it). Included once from the top-level
# CMakeLists.txt. Contents: /usr/sbin/tlsbroker, the systemd unit, the example config as a
# conffile, the docs, the Grafana dashboard; postinst creates the `tlsbroker` system user and enables the unit.
# The log goes to journald only: there is no logrotate file (see service/LINUX.md).
if(WIN32)
  return()
endif()

set(TLSBROKER_DEB_MAINTAINER "tlsbroker maintainers <maintainers@tlsbroker.example>"
    CACHE STRING "Maintainer field of the Debian package")
set(TLSBROKER_DEB_RELEASE 1 CACHE STRING "Debian revision of the package")
set(TLSBROKER_DEB_VERSION "${PROJECT_VERSION}-${TLSBROKER_DEB_RELEASE}")
set(_deb_src ${CMAKE_CURRENT_LIST_DIR})
set(_deb_out ${CMAKE_CURRENT_BINARY_DIR}/debian)

install(TARGETS tlsbroker RUNTIME DESTINATION sbin COMPONENT broker)
install(FILES ${PROJECT_SOURCE_DIR}/service/systemd/tlsbroker.service DESTINATION /lib/systemd/system
        COMPONENT broker)
install(FILES ${_deb_src}/tlsbroker.json DESTINATION /etc/tlsbroker COMPONENT broker)
install(FILES ${PROJECT_SOURCE_DIR}/installer/grafana-dashboard.json DESTINATION share/tlsbroker COMPONENT broker)

# /usr/share/doc/tlsbroker: Debian wants the copyright file and a gzipped changelog (gzip -n:
# no name or time stamp inside, so that the package builds the same twice).
configure_file(${_deb_src}/changelog.in ${_deb_out}/changelog.Debian @ONLY)
execute_process(COMMAND gzip -9nc ${_deb_out}/changelog.Debian OUTPUT_FILE ${_deb_out}/changelog.Debian.gz
                COMMAND_ERROR_IS_FATAL ANY)
install(FILES ${_deb_src}/copyright ${_deb_out}/changelog.Debian.gz ${PROJECT_SOURCE_DIR}/service/LINUX.md
        DESTINATION share/doc/tlsbroker COMPONENT broker)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tlsbroker)
set(CPACK_PACKAGE_VENDOR tlsbroker)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${TLSBROKER_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "TLS connection broker for legacy TCP servers")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # tlsbroker_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${TLSBROKER_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TLSBROKER_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The long text: CPack puts the summary above it and indents each line by one space.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "tlsbroker terminates TLS for thousands of long-lived clients and relays
the plain bytes to a backend TCP server. Its accept path recovers from
descriptor exhaustion and stalls, and it reports what it does through a
status endpoint, Prometheus metrics and the journal. It runs as a systemd
service (Type=notify, with a watchdog).")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # the libraries it links, from dpkg-shlibdeps
# adduser: postinst; ssl-cert: the snakeoil certificate of the example config and the
# group that may read its key.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ssl-cert")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_deb_src}/conffiles ${_deb_src}/postinst ${_deb_src}/prerm
    ${_deb_src}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
include(CPack)
