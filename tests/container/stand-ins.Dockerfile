# Stand-ins for the official postgres and nginx images that compose.yaml names, for machines that
# reach no image registry: Debian's own packages on the base tests/container/bootstrap.sh makes.
# They keep the contract compose.yaml relies on, nothing more:
#   postgres: POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB set up an empty data volume at
#             /var/lib/postgresql/data on first start; pg_isready answers; port 5432 (inside only)
#   nginx:    reads /etc/nginx/conf.d/*.conf; /bin/sh is there for compose.yaml's entrypoint
#
#   docker build -f tests/container/stand-ins.Dockerfile --build-arg SERVICES=IMAGE --target postgres tests/container
ARG SERVICES

FROM ${SERVICES} AS postgres
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
RUN mkdir -p "$PGDATA" /var/run/postgresql \
    && chown postgres:postgres "$PGDATA" /var/run/postgresql \
    && chmod 700 "$PGDATA"
USER postgres
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint.sh"]

FROM ${SERVICES} AS nginx
RUN rm -f /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 3000
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
