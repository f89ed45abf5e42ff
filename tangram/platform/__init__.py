"""Platform services: persistence, metadata store, auth, jobs and audit.

Services take a :class:`~tangram.platform.uow.UnitOfWork` and an
:class:`~tangram.platform.perms.Actor`; they check permissions, ask an engine, apply its effects,
write the audit log and enqueue jobs, all inside the caller's unit of work.
"""
