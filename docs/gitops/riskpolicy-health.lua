-- Argo CD health check for riskgate.dev/RiskPolicy
-- (resource.customizations.health.riskgate.dev_RiskPolicy in argocd-cm).
hs = {}
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the riskgate operator to reconcile the policy"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "The operator has not yet seen generation " .. obj.metadata.generation
  return hs
end
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      if condition.status == "False" then
        hs.status = "Degraded"
        hs.message = condition.message or condition.reason or "not ready"
        return hs
      end
      if condition.status == "True" then
        hs.status = "Healthy"
        hs.message = condition.message or "ready"
        return hs
      end
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
