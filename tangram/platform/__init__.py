"""Platform services: persistence, metadata store, auth, jobs and audit.

Services take a :class:`~tangram.platform.kernel.uow.UnitOfWork` and an
:class:`~tangram.platform.identity.perms.Actor`; they check permissions, ask an engine, apply its effects,
write the audit log and enqueue jobs, all inside the caller's unit of work.
"""
